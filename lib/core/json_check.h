/*
 * json_check.h - strict RFC 8259 validation of one JSON object, run by the
 * server on every event payload before it is stored.
 *
 * Accepted: exactly one object, with optional white space (space, tab, LF,
 * CR) around it, in which every string is valid UTF-8 (no overlongs, no
 * surrogates, nothing above U+10FFFF) without raw control characters, every
 * escape is one of \" \\ \/ \b \f \n \r \t \uXXXX (a \u high surrogate must be
 * followed by a \u low surrogate and a low one must not stand alone), every
 * number follows the grammar, and containers nest at most max_depth deep (the
 * outer object is depth 1). Duplicate keys are allowed, as RFC 8259 allows.
 *
 * The checker does not recurse and allocates only when nesting is deeper than
 * a few hundred levels (then one byte per eight levels), so any input size is
 * safe. It reads only p[0..len); p need not be NUL-terminated.
 */
#ifndef YINGJI_JSON_CHECK_H
#define YINGJI_JSON_CHECK_H

#include <stddef.h>

/* Returns 0 when p[0..len) is exactly one valid JSON object. Otherwise returns
 * -E2BIG when nesting exceeds max_depth, or -EINVAL for anything else, and
 * stores the byte offset of the first problem in *reterr_offset (len when the
 * input ends too soon). reterr_offset may be NULL. */
int	json_check_object(const char *p, size_t len, unsigned max_depth, size_t *reterr_offset);

/* As json_check_object(), and on error also stores a short English reason in
 * *reterr_what (a static string: "invalid UTF-8", "control character in
 * string", "NUL in string", "bad escape", "lone surrogate", "bad number",
 * "bad literal", "unexpected character", "expected string key",
 * "expected ':'", "expected ',' or '}'", "expected ',' or ']'",
 * "not an object", "trailing data", "nesting too deep", "unexpected end").
 * Either output may be NULL. */
int	json_check_object_ex(const char *p, size_t len, unsigned max_depth, size_t *reterr_offset,
		const char **reterr_what);

#endif
