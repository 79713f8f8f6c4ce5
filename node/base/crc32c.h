/*
 * crc32c.h - CRC-32C (Castagnoli, reflected polynomial 0x82F63B78).
 *
 * crc32c_update(crc, p, n) extends a running checksum: crc32c(p, n) ==
 * crc32c_update(0, p, n), and chaining works across calls, so
 * crc32c_update(crc32c_update(0, a, na), b, nb) == crc32c over a then b.
 * Uses the SSE4.2 instruction where the CPU has it, a slicing-by-8 table
 * otherwise; both give identical results.
 */
#ifndef CETCD_BASE_CRC32C_H
#define CETCD_BASE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32c_update(uint32_t crc, const void *p, size_t n);
static inline uint32_t crc32c(const void *p, size_t n)
{
	return crc32c_update(0, p, n);
}
/* Tests: force the portable table path even where SSE4.2 exists. */
uint32_t crc32c_update_sw(uint32_t crc, const void *p, size_t n);

#endif
