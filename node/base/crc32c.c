/*
 * crc32c.c - CRC-32C with the SSE4.2 crc32 instruction when the CPU has it,
 * and a slicing-by-8 table otherwise (crc32c.h).  The tables are computed
 * once, on first use, from the polynomial; the hardware path is chosen once
 * by cpuid.
 */
#include "base/crc32c.h"

#include <endian.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#define CRC32C_POLY 0x82F63B78u /* reflected Castagnoli polynomial */

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++) {
			c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		}
		table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++) {
		for (int t = 1; t < 8; t++) {
			uint32_t prev = table[t - 1][i];
			table[t][i] = (prev >> 8) ^ table[0][prev & 0xff];
		}
	}
}

uint32_t crc32c_update_sw(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *s = p;

	pthread_once(&table_once, table_init);
	crc = ~crc;
	while (n > 0 && ((uintptr_t)s & 7) != 0) {
		crc = (crc >> 8) ^ table[0][(crc ^ *s++) & 0xff];
		n--;
	}
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		/* The tables assume the word's first byte is its low byte. */
		w = le64toh(w) ^ crc;
		crc = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^
		      table[5][(w >> 16) & 0xff] ^ table[4][(w >> 24) & 0xff] ^
		      table[3][(w >> 32) & 0xff] ^ table[2][(w >> 40) & 0xff] ^
		      table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
		s += 8;
		n -= 8;
	}
	while (n-- > 0) {
		crc = (crc >> 8) ^ table[0][(crc ^ *s++) & 0xff];
	}
	return ~crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t
crc32c_update_hw(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *s = p;
	uint64_t c = ~crc;

	while (n > 0 && ((uintptr_t)s & 7) != 0) {
		c = __builtin_ia32_crc32qi((uint32_t)c, *s++);
		n--;
	}
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		c = __builtin_ia32_crc32di(c, w);
		s += 8;
		n -= 8;
	}
	while (n-- > 0) {
		c = __builtin_ia32_crc32qi((uint32_t)c, *s++);
	}
	return ~(uint32_t)c;
}

static bool have_hw(void)
{
	static int cached = -1;

	if (cached < 0) {
		__builtin_cpu_init();
		cached = __builtin_cpu_supports("sse4.2") ? 1 : 0;
	}
	return cached == 1;
}
#endif

uint32_t crc32c_update(uint32_t crc, const void *p, size_t n)
{
#if defined(__x86_64__)
	if (have_hw()) {
		return crc32c_update_hw(crc, p, n);
	}
#endif
	return crc32c_update_sw(crc, p, n);
}
