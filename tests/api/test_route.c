/*
 * test_route.c - the route table.
 */
#include <errno.h>
#include <string.h>

#include "api/route.h"
#include "testlib.h"

static void h_a(struct http1_req *req, void *ctx)
{
	(void)req;
	(void)ctx;
}

static void h_b(struct http1_req *req, void *ctx)
{
	(void)req;
	(void)ctx;
}

START_TEST(test_canonical_path_maps_old_gateway_prefixes_to_v3)
{
	char out[64];

	ck_assert_int_eq(
	    route_canonical_path("/v3beta/kv/range", 16, out, sizeof(out)), 12);
	ck_assert_str_eq(out, "/v3/kv/range");
	ck_assert_int_gt(
	    route_canonical_path("/v3alpha/watch", 14, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/v3/watch");
	ck_assert_int_gt(route_canonical_path("/v3betax", 8, out, sizeof(out)),
			 0);
	ck_assert_str_eq(out, "/v3betax");
	ck_assert_int_gt(route_canonical_path("/health", 7, out, sizeof(out)),
			 0);
	ck_assert_str_eq(out, "/health");
	ck_assert_int_eq(route_canonical_path("/health", 7, out, 4),
			 -ENAMETOOLONG);
}
END_TEST

START_TEST(test_lookup_finds_exact_then_longest_prefix_and_lists_allow)
{
	struct route_table *t;
	struct route_match m;
	char allow[64];
	int ctx_a, ctx_b;

	ck_assert_int_eq(route_table_new(&t), 0);
	ck_assert_int_eq(route_add(t, "POST", "/v3/kv/range", h_a, &ctx_a), 0);
	ck_assert_int_eq(route_add(t, "POST", "/v3/kv/range", h_b, &ctx_b),
			 -EEXIST);
	ck_assert_int_eq(route_add(t, "PUT", "/v3/kv/range", h_b, &ctx_b), 0);
	ck_assert_int_eq(route_add(t, "GET", "/livez", h_a, &ctx_a), 0);
	ck_assert_int_eq(route_add(t, "GET", "/livez/*", h_b, &ctx_b), 0);
	ck_assert_int_eq(route_add(t, "GET", "relative", h_b, &ctx_b), -EINVAL);

	ck_assert_int_eq(route_lookup(t, "POST", "/v3/kv/range", &m, NULL, 0),
			 0);
	ck_assert_ptr_eq(m.ctx, &ctx_a);
	ck_assert_int_eq(
	    route_lookup(t, "GET", "/v3/kv/range", &m, allow, sizeof(allow)),
	    -EPERM);
	ck_assert_str_eq(allow, "POST, PUT");
	ck_assert_int_eq(route_lookup(t, "GET", "/v3/kv/rangex", &m, NULL, 0),
			 -ENOENT);
	ck_assert_int_eq(route_lookup(t, "HEAD", "/livez", &m, NULL, 0), 0);
	ck_assert_ptr_eq(m.ctx, &ctx_a);
	ck_assert_int_eq(
	    route_lookup(t, "GET", "/livez/serializable_read", &m, NULL, 0), 0);
	ck_assert_ptr_eq(m.ctx, &ctx_b);
	route_table_free(t);
}
END_TEST

static Suite *route_suite(void)
{
	Suite *s = suite_create("route");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_canonical_path_maps_old_gateway_prefixes_to_v3);
	tcase_add_test(
	    tc, test_lookup_finds_exact_then_longest_prefix_and_lists_allow);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(route_suite)
