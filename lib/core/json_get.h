/*
 * json_get.h - read single fields back out of a JSON object that json.h wrote
 * (an event in the journal), without a JSON library.
 *
 * Only top-level keys of obj[0..len) are looked at; a nested object is
 * reached by taking its text with json_get_raw() and looking up in that. The
 * scan is tolerant (it does not validate what it skips) but bounded: it never
 * reads past len, does not need a NUL, and does not recurse. The first
 * occurrence of a key wins.
 *
 * Each returns 0 on success, -ENOENT when the key is absent or its value is
 * null, -EINVAL when the text is not an object as far as it had to be read or
 * the value has another type, -ERANGE for a number out of range, and -E2BIG
 * when a string does not fit out's cap.
 */
#ifndef YINGJI_JSON_GET_H
#define YINGJI_JSON_GET_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* The string value, unescaped, into out (reset first; empty on failure).
 * Undoes the standard escapes, \uXXXX (surrogate pairs joined, a lone
 * surrogate becomes U+FFFD) and json.h's "\\xHH" for bytes that are not
 * UTF-8. out may then hold any byte, NUL included: use out->len. */
int	json_get_str(const char *obj, size_t len, const char *key, struct buf *out);
/* An integer value (no fraction, no exponent). */
int	json_get_i64(const char *obj, size_t len, const char *key, int64_t *ret);
/* The raw text of any value (a string with its quotes, an object with its
 * braces), pointing into obj. */
int	json_get_raw(const char *obj, size_t len, const char *key, const char **ret_val,
		size_t *ret_len);

/* Iterate the elements of the array arr[0..len): start with *pos = 0; each
 * call gives the raw text of the next element. -ENOENT after the last one,
 * -EINVAL when arr is not an array as far as it was read. */
int	json_array_next(const char *arr, size_t len, size_t *pos, const char **ret_val,
		size_t *ret_len);

/* Iterate the members of the object obj[0..len) like json_array_next: each
 * call gives the next key (raw, between its quotes, escapes not undone) and
 * the raw text of its value. -ENOENT after the last, -EINVAL when malformed. */
int	json_object_next(const char *obj, size_t len, size_t *pos, const char **ret_key,
		size_t *ret_klen, const char **ret_val, size_t *ret_vlen);

#endif
