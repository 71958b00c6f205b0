/*
 * hex.h - bytes to and from hexadecimal text, and little-endian integers in
 * byte buffers (the journal's records and the agent channel's frames).
 */
#ifndef YINGJI_HEX_H
#define YINGJI_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Lowercase hex of p[0..n) into out (2n characters, then a NUL). */
void	hex_encode(const void *p, size_t n, char *out);
/* Append lowercase hex of p[0..n) to b (-E2BIG past its cap). */
int	hex_append(struct buf *b, const void *p, size_t n);
/* n bytes from exactly 2n hex digits (either case) at s: 0 or -EINVAL. */
int	hex_decode(const char *s, size_t n, uint8_t *out);
/* The value of one hex digit, or -1. */
int	hex_digit(char c);

static inline void
le32_put(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline void
le64_put(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint32_t
le32_get(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t
le64_get(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

#endif
