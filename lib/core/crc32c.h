/* crc32c.h - CRC-32C (Castagnoli), the checksum of journal and baseline records. */
#ifndef YINGJI_CRC32C_H
#define YINGJI_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC: start with crc = 0. */
uint32_t	crc32c(uint32_t crc, const void *data, size_t len);

#endif
