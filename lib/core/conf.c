/* conf.c - parser for "key = value" configuration files (format in conf.h). */
#include "core/conf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/xalloc.h"
#include "core/fdio.h"
#include "core/banned.h"

static bool
conf_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool
conf_is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
	       c == '-';
}

static const char *
conf_skip_blank(const char *p, const char *end)
{
	while (p < end && conf_is_blank(*p))
		p++;
	return p;
}

/* A quoted value from just after its opening quote into *value; *ret_p is
 * set past the closing quote. */
static int
conf_parse_quoted(const char *p, const char *end, struct buf *value, const char **ret_p,
		const char **reterr_msg)
{
	int r;

	for (;;) {
		char c;

		if (p == end) {
			*reterr_msg = "unterminated quote";
			return -EINVAL;
		}
		c = *p++;
		if (c == '"')
			break;
		if (c == '\\') {
			if (p == end) {
				*reterr_msg = "unterminated quote";
				return -EINVAL;
			}
			c = *p++;
			if (c != '"' && c != '\\') {
				*reterr_msg = "unknown escape in quoted value (only \\\" and \\\\)";
				return -EINVAL;
			}
		}
		r = buf_putc(value, c);
		if (r < 0)
			return r;
	}
	*ret_p = p;
	return 0;
}

/* One line without its '\n'. Adds an entry to c unless the line is blank or a comment. */
static int
conf_parse_line(const char *p, const char *end, unsigned line, struct conf *c,
		const char **reterr_msg)
{
	const char *key, *key_end;
	struct buf value;
	int r;

	buf_init(&value, CONF_LINE_MAX);
	if (end > p && end[-1] == '\r')
		end--;
	p = conf_skip_blank(p, end);
	if (p == end || *p == '#') {
		r = 0;
		goto out;
	}

	key = p;
	while (p < end && conf_is_key_char(*p))
		p++;
	key_end = p;
	p = conf_skip_blank(p, end);
	if (p == end || *p != '=') {
		/* "Key = x" or "a b = x" is a bad key; "just words" lacks the '='. */
		if (memchr(key, '=', (size_t)(end - key)) != NULL)
			*reterr_msg = "bad key (allowed: a-z 0-9 _ . -)";
		else
			*reterr_msg = "missing '='";
		r = -EINVAL;
		goto out;
	}
	if (key_end == key) {
		*reterr_msg = "bad key (allowed: a-z 0-9 _ . -)";
		r = -EINVAL;
		goto out;
	}
	p = conf_skip_blank(p + 1, end);

	if (p < end && *p == '"') {
		r = conf_parse_quoted(p + 1, end, &value, &p, reterr_msg);
		if (r < 0)
			goto out;
		p = conf_skip_blank(p, end);
		if (p < end && *p != '#') {
			*reterr_msg = "text after the closing quote";
			r = -EINVAL;
			goto out;
		}
	} else {
		const char *v = p, *v_end = p;

		for (; p < end; p++) {
			if (*p == '#' && conf_is_blank(p[-1]))	/* p[-1] is '=' at worst */
				break;
			if (!conf_is_blank(*p))
				v_end = p + 1;
		}
		r = buf_append(&value, v, (size_t)(v_end - v));
		if (r < 0)
			goto out;
	}

	if (c->n >= CONF_ENTRIES_MAX) {
		*reterr_msg = "too many entries";
		r = -E2BIG;
		goto out;
	}
	c->entries = xgrow(c->entries, &c->cap, c->n + 1, sizeof(*c->entries));
	c->entries[c->n].key = xstrndup(key, (size_t)(key_end - key));
	c->entries[c->n].value = buf_detach(&value, NULL);
	c->entries[c->n].line = line;
	c->n++;
	r = 0;
out:
	buf_release(&value);
	return r;
}

int
conf_parse(const char *text, size_t len, struct conf *ret, unsigned *reterr_line,
		const char **reterr_msg)
{
	struct conf c = { 0 };
	const char *p, *end;
	const char *msg = NULL;
	unsigned line = 0;
	int r;

	if (len == 0)
		text = "";		/* (NULL, 0) is fine; NULL + 0 is not */
	p = text;
	end = text + len;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end) {
		const char *eol, *next;

		eol = memchr(p, '\n', (size_t)(end - p));
		next = eol != NULL ? eol + 1 : end;
		if (eol == NULL)
			eol = end;
		if (line == UINT_MAX) {
			msg = "too many lines";
			r = -E2BIG;
			goto out;
		}
		line++;
		if (eol - p > CONF_LINE_MAX) {
			msg = "line too long";
			r = -E2BIG;
			goto out;
		}
		if (memchr(p, '\0', (size_t)(eol - p)) != NULL) {
			msg = "NUL byte";
			r = -EINVAL;
			goto out;
		}
		r = conf_parse_line(p, eol, line, &c, &msg);
		if (r < 0)
			goto out;
		p = next;
	}

	*ret = c;
	c = (struct conf){ 0 };		/* the caller owns the entries now */
	r = 0;
out:
	if (r < 0) {
		if (reterr_line != NULL)
			*reterr_line = line;
		if (reterr_msg != NULL)
			*reterr_msg = msg;
	}
	conf_release(&c);
	return r;
}

/* The whole file, refusing anything that is not a regular file (a FIFO would
 * block, a device could be endless) or that is over CONF_FILE_MAX. */
static int
conf_read_file(const char *path, struct buf *out)
{
	char chunk[16384];
	struct stat st;
	int fd = -1;
	int r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	if (st.st_size > CONF_FILE_MAX) {
		r = -EFBIG;
		goto out;
	}
	for (;;) {
		ssize_t n = fd_read(fd, chunk, sizeof(chunk));

		if (n < 0) {
			r = (int)n;
			goto out;
		}
		if (n == 0)
			break;
		r = buf_append(out, chunk, (size_t)n);
		if (r < 0) {
			r = -EFBIG;	/* it grew after fstat */
			goto out;
		}
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

int
conf_load_file(const char *path, struct conf *ret, unsigned *reterr_line,
		const char **reterr_msg)
{
	struct buf text;
	int r;

	buf_init(&text, CONF_FILE_MAX);
	r = conf_read_file(path, &text);
	if (r < 0)
		goto out;
	r = conf_parse(text.data, text.len, ret, reterr_line, reterr_msg);
out:
	buf_release(&text);
	return r;
}

void
conf_release(struct conf *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->entries[i].key);
		free(c->entries[i].value);
	}
	free(c->entries);
	*c = (struct conf){ 0 };
}

const char *
conf_get(const struct conf *c, const char *key)
{
	for (size_t i = c->n; i-- > 0;)
		if (strcmp(c->entries[i].key, key) == 0)
			return c->entries[i].value;
	return NULL;
}
