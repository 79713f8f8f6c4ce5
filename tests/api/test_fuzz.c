/*
 * test_fuzz.c - replay the HTTP/1.1 seed corpus through the fuzz entry
 * point, with seeded mutations and with every allocation failing in turn.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http1.h"
#include "base/buf.h"
#include "base/mem.h"
#include "testlib.h"

struct corpus {
	struct buf files[64];
	size_t n;
};

static void corpus_load(struct corpus *c)
{
	const char *dir = testlib_src_path("tests/api/corpus");
	DIR *d = opendir(dir);
	struct dirent *e;

	ck_assert_msg(d != NULL, "no corpus at %s", dir);
	c->n = 0;
	while ((e = readdir(d)) != NULL && c->n < 64) {
		char path[1024];
		char tmp[4096];
		FILE *f;
		size_t k;

		if (e->d_name[0] == '.') {
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		ck_assert_ptr_nonnull(f);
		buf_init(&c->files[c->n]);
		while ((k = fread(tmp, 1, sizeof(tmp), f)) > 0) {
			ck_assert_int_eq(buf_append(&c->files[c->n], tmp, k),
					 0);
		}
		fclose(f);
		c->n++;
	}
	closedir(d);
	ck_assert_uint_ge(c->n, 10);
}

static void corpus_free(struct corpus *c)
{
	for (size_t i = 0; i < c->n; i++) {
		buf_done(&c->files[i]);
	}
}

START_TEST(test_seed_corpus_replays_cleanly)
{
	struct corpus c;

	corpus_load(&c);
	for (size_t i = 0; i < c.n; i++) {
		ck_assert_int_eq(
		    http1_fuzz_one(c.files[i].data, c.files[i].len), 0);
	}
	corpus_free(&c);
}
END_TEST

START_TEST(test_mutated_corpus_never_crashes)
{
	struct corpus c;
	uint64_t rng = testlib_seed();
	struct buf m = BUF_INIT;

	corpus_load(&c);
	for (int round = 0; round < 600; round++) {
		const struct buf *src = &c.files[testlib_rand_below(&rng, c.n)];
		int edits = 1 + (int)testlib_rand_below(&rng, 4);

		buf_reset(&m);
		ck_assert_int_eq(buf_append(&m, src->data, src->len), 0);
		for (int k = 0; k < edits && m.len > 0; k++) {
			size_t at = testlib_rand_below(&rng, m.len);

			switch (testlib_rand_below(&rng, 4)) {
			case 0: /* flip a byte */
				m.data[at] = (uint8_t)testlib_rand_next(&rng);
				break;
			case 1: /* truncate */
				m.len = at;
				break;
			case 2: /* splice in another seed */
			{
				const struct buf *o =
				    &c.files[testlib_rand_below(&rng, c.n)];

				ck_assert_int_eq(
				    buf_append(&m, o->data, o->len), 0);
				break;
			}
			default: /* a structural byte */
				m.data[at] =
				    ":\r\n0 ;"[testlib_rand_below(&rng, 6)];
				break;
			}
		}
		ck_assert_int_eq(http1_fuzz_one(m.data, m.len), 0);
	}
	buf_done(&m);
	corpus_free(&c);
}
END_TEST

START_TEST(test_allocation_failures_at_every_point_are_handled)
{
	struct corpus c;

	corpus_load(&c);
	for (size_t i = 0; i < c.n; i++) {
		bool refused = true;

		/* Until a run needs no more allocations than allowed. */
		for (long n = 0; refused; n++) {
			ck_assert_int_lt(n, 5000);
			mem_fail_after(n);
			http1_fuzz_one(c.files[i].data, c.files[i].len);
			refused = mem_fail_count() > 0;
			mem_fail_reset();
		}
	}
	corpus_free(&c);
}
END_TEST

static Suite *fuzz_suite(void)
{
	Suite *s = suite_create("http1_fuzz");
	TCase *tc = tcase_create("corpus");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_seed_corpus_replays_cleanly);
	tcase_add_test(tc, test_mutated_corpus_never_crashes);
	tcase_add_test(tc, test_allocation_failures_at_every_point_are_handled);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(fuzz_suite)
