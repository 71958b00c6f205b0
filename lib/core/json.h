/*
 * json.h - append JSON to a struct buf. Strings are escaped; bytes that are not
 * valid UTF-8 (file names may hold any byte) are written as the six characters
 * "\\xHH", so the output is always valid JSON and the original bytes can be
 * recovered (a real backslash is written as \u005c, so the two never mix). One object is built with json_begin/json_end and key helpers.
 */
#ifndef YINGJI_JSON_H
#define YINGJI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct json {
	struct buf	*out;
	int		 err;		/* first error (-E2BIG), sticky */
	unsigned	 depth;
	bool		 need_comma[16];
	char		 closer[16];	/* '}' or ']' for each open level */
};

void	json_begin(struct json *j, struct buf *out);	/* starts "{" */
int	json_end(struct json *j);			/* closes every open level; returns j->err */
void	json_key_str(struct json *j, const char *key, const char *val);
void	json_key_strn(struct json *j, const char *key, const char *val, size_t len);
void	json_key_u64(struct json *j, const char *key, uint64_t val);
void	json_key_i64(struct json *j, const char *key, int64_t val);
void	json_key_double(struct json *j, const char *key, double val);
void	json_key_bool(struct json *j, const char *key, bool val);
void	json_key_null(struct json *j, const char *key);
void	json_key_object(struct json *j, const char *key);	/* opens "key":{ */
void	json_key_array(struct json *j, const char *key);	/* opens "key":[ */
void	json_array_object(struct json *j);			/* opens { inside an array */
void	json_array_str(struct json *j, const char *val);
void	json_close(struct json *j);				/* closes one level */
/* "key": raw, where raw[0..len) is JSON the caller checked (json_check.h). */
void	json_key_json(struct json *j, const char *key, const char *raw, size_t len);

/* Append s[0..len) as a quoted JSON string. */
int	json_append_string(struct buf *out, const char *s, size_t len);

#endif
