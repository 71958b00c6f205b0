/*
 * base64.h - RFC 4648 base64 (the standard alphabet, with '=' padding), for
 * robot signatures, MIME bodies and RFC 2047 encoded words. Encoding only:
 * nothing in Yingji decodes base64 from the outside.
 */
#ifndef YINGJI_BASE64_H
#define YINGJI_BASE64_H

#include <stddef.h>

#include "core/buf.h"

/* Characters base64 of n bytes takes (without a NUL); n must be well below
 * SIZE_MAX / 4 * 3. */
size_t	base64_encoded_len(size_t n);
/* Base64 of p[0..n) into out, which holds base64_encoded_len(n) + 1 bytes
 * (a NUL is written after the text). */
void	base64_encode(const void *p, size_t n, char *out);
/* Appends base64 of p[0..n) to b; with line_max > 0, a CRLF after every
 * line_max characters and after the last line (MIME bodies, RFC 2045 6.8:
 * line_max 76, a multiple of 4). -E2BIG past b's cap (b unchanged). */
int	base64_append(struct buf *b, const void *p, size_t n, size_t line_max);

#endif
