/* utf8.h - UTF-8 validation (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
#ifndef YINGJI_UTF8_H
#define YINGJI_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if it is not valid. */
size_t	utf8_char_len(const unsigned char *p, size_t avail);
bool	utf8_valid(const char *s, size_t len);
/* Terminal columns s takes: 2 for East Asian wide characters, else 1. */
size_t	utf8_display_width(const char *s, size_t len);

#endif
