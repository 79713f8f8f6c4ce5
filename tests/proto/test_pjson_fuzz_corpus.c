/*
 * test_pjson_fuzz_corpus.c - the fuzz seed corpus replays cleanly through
 * pjson_fuzz_one, also with seeded byte mutations and with each allocation
 * failing in turn.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "fuzz_pjson.h"
#include "testlib.h"

struct input {
	uint8_t *data;
	size_t len;
};

/* Read every file of the corpus; returns how many. */
static size_t load_corpus(struct input *in, size_t max)
{
	const char *dir = testlib_src_path("tests/proto/corpus");
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	ck_assert_msg(d != NULL, "cannot open %s", dir);
	while ((e = readdir(d)) != NULL && n < max) {
		char path[4096];
		FILE *f;
		long size;

		if (e->d_name[0] == '.') {
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		ck_assert_ptr_nonnull(f);
		ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
		size = ftell(f);
		rewind(f);
		in[n].data = malloc((size_t)size + 1);
		ck_assert_ptr_nonnull(in[n].data);
		ck_assert_uint_eq(fread(in[n].data, 1, (size_t)size, f),
				  (size_t)size);
		in[n].len = (size_t)size;
		fclose(f);
		n++;
	}
	closedir(d);
	return n;
}

static void free_corpus(struct input *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(in[i].data);
	}
}

START_TEST(test_corpus_replays_cleanly)
{
	struct input in[256];
	size_t n = load_corpus(in, 256);

	ck_assert_uint_ge(n, 15);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(pjson_fuzz_one(in[i].data, in[i].len), 0);
	}
	free_corpus(in, n);
}
END_TEST

START_TEST(test_mutated_corpus_inputs_never_crash)
{
	static const char interesting[] = "{}[]\":,\\-0123456789eE.nulltrfas"
					  "\x00\xff\n ";
	struct input in[256];
	size_t n = load_corpus(in, 256);
	uint64_t rng = testlib_seed();

	for (size_t i = 0; i < n; i++) {
		for (int k = 0; k < 100; k++) {
			size_t len = in[i].len;
			uint8_t *buf = malloc(len + 1);
			int edits = 1 + (int)testlib_rand_below(&rng, 4);

			memcpy(buf, in[i].data, len);
			for (int e = 0; e < edits && len > 0; e++) {
				size_t at = testlib_rand_below(&rng, len);

				switch (testlib_rand_below(&rng, 3)) {
				case 0:
					buf[at] = (uint8_t)testlib_rand_next(&rng);
					break;
				case 1:
					buf[at] = (uint8_t)interesting
						[testlib_rand_below(
							&rng,
							sizeof(interesting) - 1)];
					break;
				default:
					len = at;
					break;
				}
			}
			ck_assert_int_eq(pjson_fuzz_one(buf, len), 0);
			free(buf);
		}
	}
	free_corpus(in, n);
}
END_TEST

START_TEST(test_corpus_survives_each_allocation_failing)
{
	struct input in[256];
	size_t n = load_corpus(in, 256);

	for (size_t i = 0; i < n; i++) {
		/* Until a run where no allocation was refused. */
		for (long f = 0;; f++) {
			unsigned long refused;

			mem_fail_after(f);
			ck_assert_int_eq(pjson_fuzz_one(in[i].data, in[i].len),
					 0);
			refused = mem_fail_count();
			mem_fail_reset();
			if (refused == 0) {
				break;
			}
			ck_assert_int_lt(f, 100000);
		}
	}
	free_corpus(in, n);
}
END_TEST

static Suite *pjson_fuzz_corpus_suite(void)
{
	Suite *s = suite_create("pjson_fuzz_corpus");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_corpus_replays_cleanly);
	tcase_add_test(tc, test_mutated_corpus_inputs_never_crash);
	tcase_add_test(tc, test_corpus_survives_each_allocation_failing);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(pjson_fuzz_corpus_suite)
