/* utf8.c - strict UTF-8 decoding of one sequence at a time. */
#include "core/utf8.h"

#include "core/banned.h"

size_t
utf8_char_len(const unsigned char *p, size_t avail)
{
	unsigned char c = p[0];
	size_t n;
	unsigned cp;

	if (avail == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
		(cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_char_len(p + i, len - i);

		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

/* East Asian wide and fullwidth ranges (Unicode EAW W/F), the ones Chinese
 * text uses: two terminal columns each. */
static bool
is_wide(unsigned cp)
{
	return (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
		(cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
		(cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
		(cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x20000 && cp <= 0x3fffd);
}

size_t
utf8_display_width(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, w = 0;

	while (i < len) {
		size_t n = utf8_char_len(p + i, len - i);
		unsigned cp;

		if (n == 0) {		/* a stray byte: one column */
			i++;
			w++;
			continue;
		}
		cp = n == 1 ? p[i] : n == 2 ? (p[i] & 0x1fu) << 6 | (p[i + 1] & 0x3fu) :
			n == 3 ? (p[i] & 0x0fu) << 12 | (p[i + 1] & 0x3fu) << 6 | (p[i + 2] & 0x3fu) :
			(p[i] & 0x07u) << 18 | (p[i + 1] & 0x3fu) << 12 | (p[i + 2] & 0x3fu) << 6 |
			(p[i + 3] & 0x3fu);
		w += is_wide(cp) ? 2 : 1;
		i += n;
	}
	return w;
}
