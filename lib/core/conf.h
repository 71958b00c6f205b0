/*
 * conf.h - the agent's configuration file: one "key = value" per line.
 *
 *	# a comment line
 *	server = collector.example:8443
 *	guard = /etc
 *	guard = "/srv/my dir/with \"quotes\" and \\"	# repeated keys are kept in order
 *
 * Keys are [a-z0-9_.-]+. Blank space around keys and values is ignored. An
 * unquoted value runs to the end of the line or to a '#' that follows blank
 * space (quote a value that needs " #"); a "quoted" value knows only the
 * escapes \" and \\ and may be followed by blank space and a comment. A line
 * may end in "\r\n"; a leading UTF-8 byte order mark is skipped.
 *
 * Limits: lines of at most CONF_LINE_MAX bytes and at most CONF_ENTRIES_MAX
 * entries (-E2BIG), files of at most CONF_FILE_MAX bytes (-EFBIG). Any other
 * mistake, including a NUL byte, is -EINVAL. Parse errors give the 1-based
 * line in *reterr_line and a short English message in *reterr_msg (a static
 * string); either pointer may be NULL.
 */
#ifndef YINGJI_CONF_H
#define YINGJI_CONF_H

#include <stddef.h>

#define CONF_LINE_MAX		4096
#define CONF_ENTRIES_MAX	10000
#define CONF_FILE_MAX		(1024 * 1024)

struct conf_entry {
	char		*key;
	char		*value;
	unsigned	 line;
};

/* Start with struct conf c = { 0 }; conf_release() works on that too. */
struct conf {
	struct conf_entry	*entries;	/* in file order */
	size_t			 n, cap;
};

/* Parse text[0..len). On success fills *ret (which it overwrites without
 * releasing) and returns 0; on error leaves *ret alone. */
int		 conf_parse(const char *text, size_t len, struct conf *ret, unsigned *reterr_line,
			const char **reterr_msg);
/* Read and parse a regular file. reterr_* are set for parse errors only. */
int		 conf_load_file(const char *path, struct conf *ret, unsigned *reterr_line,
			const char **reterr_msg);
void		 conf_release(struct conf *c);
/* The value of the last entry with this key, or NULL. */
const char	*conf_get(const struct conf *c, const char *key);

#endif
