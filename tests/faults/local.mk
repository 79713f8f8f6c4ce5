# Fault injection: the history checker (a check program, so make check
# builds it), its self-test on hand-made histories, the smoke tier of
# fault scenarios, `make check-faults` (every fault against the register
# and watch workloads) and `make soak` (random seeds for SOAK_SECONDS).
# faults.py drives the cluster; see its header.
check_PROGRAMS += tests/faults/checker
tests_faults_checker_SOURCES = tests/faults/checker.c
tests_faults_checker_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_faults_checker_LDADD = $(LIBBASE) $(JSONC_LIBS)

TESTS += tests/faults/checker_selftest.sh tests/faults/smoke.sh
dist_check_SCRIPTS += tests/faults/checker_selftest.sh tests/faults/smoke.sh \
	tests/faults/faults.py tests/faults/check_faults.sh tests/faults/soak.sh
EXTRA_DIST += tests/faults/data

# Every fault kind against the register workload, one after the other;
# FAULTS_DURATION (seconds per scenario) and CETCD_TEST_SEED as usual.
check-faults: tests/faults/checker node/cetcd
	CETCD_BUILDDIR='$(abs_top_builddir)' CETCD_SRCDIR='$(abs_top_srcdir)' \
		$(SHELL) $(top_srcdir)/tests/faults/check_faults.sh
.PHONY: check-faults

# Random seeds over every fault kind for SOAK_SECONDS (default 900);
# FAULTS_DURATION seconds per run.  Stops at the first failing run.
SOAK_SECONDS ?= 900
soak: tests/faults/checker node/cetcd
	CETCD_BUILDDIR='$(abs_top_builddir)' CETCD_SRCDIR='$(abs_top_srcdir)' \
		$(SHELL) $(top_srcdir)/tests/faults/soak.sh $(SOAK_SECONDS)
.PHONY: soak
