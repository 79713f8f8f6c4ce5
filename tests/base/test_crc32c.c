/* CRC-32C against published check values (RFC 3720 B.4, the "123456789"
 * check value of the CRC catalogue) and hardware/software agreement. */
#include <string.h>

#include "base/crc32c.h"
#include "testlib.h"

START_TEST(test_crc32c_matches_the_catalogue_check_value)
{
	ck_assert_uint_eq(crc32c("123456789", 9), 0xE3069283u);
	ck_assert_uint_eq(crc32c_update_sw(0, "123456789", 9), 0xE3069283u);
}
END_TEST

START_TEST(test_crc32c_matches_rfc3720_vectors)
{
	uint8_t buf[32];

	memset(buf, 0, sizeof(buf));
	ck_assert_uint_eq(crc32c(buf, 32), 0x8A9136AAu);
	memset(buf, 0xff, sizeof(buf));
	ck_assert_uint_eq(crc32c(buf, 32), 0x62A8AB43u);
	for (int i = 0; i < 32; i++) {
		buf[i] = (uint8_t)i;
	}
	ck_assert_uint_eq(crc32c(buf, 32), 0x46DD794Eu);
	for (int i = 0; i < 32; i++) {
		buf[i] = (uint8_t)(31 - i);
	}
	ck_assert_uint_eq(crc32c(buf, 32), 0x113FDB5Cu);
}
END_TEST

START_TEST(test_crc32c_chains_and_agrees_with_software_at_every_alignment)
{
	uint8_t data[300];
	uint64_t rng = testlib_seed();

	for (size_t i = 0; i < sizeof(data); i++) {
		data[i] = (uint8_t)testlib_rand_next(&rng);
	}
	for (size_t off = 0; off < 16; off++) {
		for (size_t len = 0; len + off <= sizeof(data); len += 7) {
			uint32_t whole = crc32c(data + off, len);
			size_t cut = len / 3;
			uint32_t chained = crc32c_update(crc32c(data + off, cut),
							 data + off + cut, len - cut);
			ck_assert_uint_eq(whole, chained);
			ck_assert_uint_eq(whole, crc32c_update_sw(0, data + off, len));
		}
	}
}
END_TEST

static Suite *crc32c_suite(void)
{
	Suite *s = suite_create("crc32c");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_crc32c_matches_the_catalogue_check_value);
	tcase_add_test(tc, test_crc32c_matches_rfc3720_vectors);
	tcase_add_test(tc, test_crc32c_chains_and_agrees_with_software_at_every_alignment);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(crc32c_suite)
