# systemd/: unit templates and the sysusers.d file for the cetcd user
# (issue 10).  Paths are under $(prefix) so that `make distcheck` can
# install them without root; a package sets prefix=/usr.
systemdunitdir = $(prefix)/lib/systemd/system
sysusersdir = $(prefix)/lib/sysusers.d

systemdunit_DATA = systemd/cetcd.service systemd/cetcd@.service
EXTRA_DIST += systemd/cetcd.service.in systemd/cetcd@.service.in \
	systemd/cetcd.sysusers
CLEANFILES += systemd/cetcd.service systemd/cetcd@.service

systemd/cetcd.service: $(srcdir)/systemd/cetcd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && \
	$(SED) -e 's|@bindir[@]|$(bindir)|g' $(srcdir)/systemd/cetcd.service.in > $@.tmp && \
	mv $@.tmp $@

systemd/cetcd@.service: $(srcdir)/systemd/cetcd@.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && \
	$(SED) -e 's|@bindir[@]|$(bindir)|g' '$(srcdir)/systemd/cetcd@.service.in' > '$@.tmp' && \
	mv '$@.tmp' '$@'

install-data-local: install-sysusers
install-sysusers:
	$(MKDIR_P) '$(DESTDIR)$(sysusersdir)'
	$(INSTALL_DATA) '$(srcdir)/systemd/cetcd.sysusers' '$(DESTDIR)$(sysusersdir)/cetcd.conf'
uninstall-local: uninstall-sysusers
uninstall-sysusers:
	rm -f '$(DESTDIR)$(sysusersdir)/cetcd.conf'
.PHONY: install-sysusers uninstall-sysusers
