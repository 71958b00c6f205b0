/*
 * inspect.c - web-content inspection: harmful keywords and hidden links.
 *
 * Keywords: the text (converted from GB18030 to UTF-8 with iconv when the page
 * declares a GB charset or is not valid UTF-8) is lower-cased for ASCII and
 * each keyword is looked for with memmem(): linear in the list, which is fine
 * for lists of a few hundred keywords. They are looked for twice: in the page
 * as it is, and in its text (tags taken out, character references such as
 * &#36172; and &amp; decoded), so that a keyword split by markup
 * ("赌<span>博</span>") or written as references is still found; a finding in
 * the text gives the offset of its first byte in the page.
 *
 * Hidden links: a bounded, forgiving tag scanner (not an HTML parser) keeps a
 * stack of open elements, each marked hidden when its style (or an
 * ancestor's) hides it, or when its class or id is one that a <style> sheet
 * of the page hides (".x{display:none}", "#y, div.z {position:absolute;
 * left:-9999px}"; for "#links a {...}" the ancestor's class or id counts);
 * an <a href> to another host inside a hidden element is a finding.
 * Unterminated tags and attributes end at the end of the data.
 */
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/inspect/inspect.h"
#include "core/xalloc.h"
#include "core/banned.h"

#define MAX_KEYWORDS	100000
#define MAX_DEPTH	256
#define MAX_ATTR	2048
#define MAX_HIDDEN_NAMES 1024	/* classes and ids a page's style sheets hide */
#define MAX_NAME	128

struct inspector {
	char	**kw;		/* lower-cased (ASCII) */
	size_t	 *kwlen;
	size_t	  nkw, capkw;
	char	**own;		/* lower-cased hosts */
	size_t	  nown;
};

int
inspector_new(struct inspector **ret)
{
	*ret = xcalloc(1, sizeof(struct inspector));
	return 0;
}

void
inspector_free(struct inspector *in)
{
	if (in == NULL)
		return;
	for (size_t i = 0; i < in->nkw; i++)
		free(in->kw[i]);
	for (size_t i = 0; i < in->nown; i++)
		free(in->own[i]);
	free(in->kw);
	free(in->kwlen);
	free(in->own);
	free(in);
}

size_t
inspector_keywords(const struct inspector *in)
{
	return in != NULL ? in->nkw : 0;
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Whether p[0..n) is valid UTF-8 (no overlongs, no surrogates). */
static bool
valid_utf8(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = p[i];
		size_t k;
		unsigned min;
		uint32_t v;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			k = 1;
			min = 0x80;
			v = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2;
			min = 0x800;
			v = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3;
			min = 0x10000;
			v = c & 0x07;
		} else {
			return false;
		}
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return false;
			v = (v << 6) | (p[i + j] & 0x3f);
		}
		if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

int
inspector_add_keyword(struct inspector *in, const char *kw)
{
	size_t n = strlen(kw);
	char *p;

	if (n == 0 || n > INSPECT_MAX_KEYWORD || !valid_utf8((const unsigned char *)kw, n))
		return -EINVAL;
	if (in->nkw >= MAX_KEYWORDS)
		return -E2BIG;
	if (in->nkw == in->capkw) {
		size_t cap = in->capkw;

		in->kw = xgrow(in->kw, &cap, in->nkw + 1, sizeof(*in->kw));
		in->kwlen = xrealloc(in->kwlen, cap * sizeof(*in->kwlen));
		in->capkw = cap;
	}
	p = xstrdup(kw);
	for (size_t i = 0; i < n; i++)
		p[i] = lower(p[i]);
	in->kw[in->nkw] = p;
	in->kwlen[in->nkw] = n;
	in->nkw++;
	return 0;
}

int
inspector_add_keywords_file(struct inspector *in, const char *path)
{
	char line[INSPECT_MAX_KEYWORD + 8];
	FILE *f = fopen(path, "re");
	int r = 0;

	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t n = strlen(line), s = 0;

		if (n > 0 && line[n - 1] != '\n' && !feof(f)) {
			r = -EINVAL;	/* too long */
			break;
		}
		while (n > 0 && (line[n - 1] == '\n' || is_space(line[n - 1])))
			line[--n] = '\0';
		while (s < n && is_space(line[s]))
			s++;
		/* a UTF-8 byte-order mark on the first line */
		if (n - s >= 3 && memcmp(line + s, "\xef\xbb\xbf", 3) == 0)
			s += 3;
		if (line[s] == '\0' || line[s] == '#')
			continue;
		r = inspector_add_keyword(in, line + s);
		if (r < 0)
			break;
	}
	if (r == 0 && ferror(f))
		r = -EIO;
	fclose(f);
	return r;
}

int
inspector_add_own_host(struct inspector *in, const char *host)
{
	size_t n = strlen(host);
	char *p;

	if (n == 0 || n > 255)
		return -EINVAL;
	p = xstrdup(host);
	for (size_t i = 0; i < n; i++)
		p[i] = lower(p[i]);
	in->own = xrealloc(in->own, (in->nown + 1) * sizeof(*in->own));
	in->own[in->nown++] = p;
	return 0;
}

bool
inspect_wants(const char *name, uint64_t size)
{
	static const char *const ext[] = {
		".html", ".htm", ".shtml", ".php", ".jsp", ".asp", ".aspx", ".js", ".txt",
	};
	size_t n = strlen(name);

	if (size > INSPECT_MAX_BYTES)
		return false;
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		size_t k = strlen(ext[i]);

		if (n > k && strcasecmp(name + n - k, ext[i]) == 0 && name[n - k - 1] != '/')
			return true;
	}
	return false;
}

/* Find needle (lower-case) in the lower-cased text; -1 when absent. */
static long long
find_lower(const char *hay, size_t n, const char *needle, size_t k)
{
	const char *p = memmem(hay, n, needle, k);

	return p != NULL ? (long long)(p - hay) : -1;
}

/* The declared charset (from the first 4 KiB) is one of the GB family. */
static bool
declares_gb(const char *low, size_t n)
{
	size_t lim = n < 4096 ? n : 4096;
	const char *p = low, *end = low + lim;

	while ((p = memmem(p, (size_t)(end - p), "charset", 7)) != NULL) {
		p += 7;
		while (p < end && (is_space(*p) || *p == '=' || *p == '"' || *p == '\''))
			p++;
		if ((end - p >= 6 && memcmp(p, "gb2312", 6) == 0) ||
			(end - p >= 3 && memcmp(p, "gbk", 3) == 0) ||
			(end - p >= 7 && memcmp(p, "gb18030", 7) == 0))
			return true;
	}
	return false;
}

/* GB18030 to UTF-8; NULL when iconv cannot (invalid bytes are skipped). */
static char *
gb_to_utf8(const char *data, size_t len, size_t *ret_len)
{
	iconv_t cd = iconv_open("UTF-8", "GB18030");
	size_t cap = len * 2 + 16, inleft = len, outleft = cap;
	char *out, *ip = (char *)data, *op;

	if (cd == (iconv_t)-1)
		return NULL;
	out = xmalloc(cap + 1);
	op = out;
	while (inleft > 0) {
		if (iconv(cd, &ip, &inleft, &op, &outleft) != (size_t)-1)
			break;
		if (errno == E2BIG) {
			size_t used = (size_t)(op - out);

			cap *= 2;
			out = xrealloc(out, cap + 1);
			op = out + used;
			outleft = cap - used;
		} else {
			/* EILSEQ or EINVAL (cut short): skip one byte */
			ip++;
			inleft--;
		}
	}
	iconv_close(cd);
	*op = '\0';
	*ret_len = (size_t)(op - out);
	return out;
}

/* ---- hidden links ---- */

struct attrs {
	char	style[MAX_ATTR];	/* lower-cased */
	char	href[MAX_ATTR];
	char	height[32];
	char	cls[MAX_ATTR];		/* class, as written */
	char	id[MAX_NAME];
	bool	has_href;
};

/* Copy value [p, e) into dst (truncated), lower-casing when asked. */
static void
copy_attr(char *dst, size_t cap, const char *p, const char *e, bool low)
{
	size_t n = (size_t)(e - p);

	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++)
		dst[i] = low ? lower(p[i]) : p[i];
	dst[n] = '\0';
}

/* Parse the attributes from p (after the tag name) up to '>' or end;
 * returns where the tag ends (just after '>', or end). */
static const char *
parse_attrs(const char *p, const char *end, struct attrs *a, bool *self_closing)
{
	*self_closing = false;
	while (p < end) {
		const char *ns, *ne, *vs = NULL, *ve = NULL;

		while (p < end && (is_space(*p) || *p == '/')) {
			*self_closing = *p == '/';
			p++;
		}
		if (p >= end)
			break;
		if (*p == '>')
			return p + 1;
		*self_closing = false;
		ns = p;
		while (p < end && !is_space(*p) && *p != '=' && *p != '>' && *p != '/')
			p++;
		ne = p;
		if (ne == ns) {
			p++;	/* a stray '=': skip it */
			continue;
		}
		while (p < end && is_space(*p))
			p++;
		if (p < end && *p == '=') {
			p++;
			while (p < end && is_space(*p))
				p++;
			if (p < end && (*p == '"' || *p == '\'')) {
				char q = *p++;

				vs = p;
				while (p < end && *p != q)
					p++;
				ve = p;
				if (p < end)
					p++;
			} else {
				vs = p;
				while (p < end && !is_space(*p) && *p != '>')
					p++;
				ve = p;
			}
		}
		if (vs == NULL)
			continue;
		if (ne - ns == 5 && strncasecmp(ns, "style", 5) == 0)
			copy_attr(a->style, sizeof(a->style), vs, ve, true);
		else if (ne - ns == 4 && strncasecmp(ns, "href", 4) == 0) {
			copy_attr(a->href, sizeof(a->href), vs, ve, false);
			a->has_href = true;
		} else if (ne - ns == 6 && strncasecmp(ns, "height", 6) == 0)
			copy_attr(a->height, sizeof(a->height), vs, ve, true);
		else if (ne - ns == 5 && strncasecmp(ns, "class", 5) == 0)
			copy_attr(a->cls, sizeof(a->cls), vs, ve, false);
		else if (ne - ns == 2 && strncasecmp(ns, "id", 2) == 0)
			copy_attr(a->id, sizeof(a->id), vs, ve, false);
	}
	return end;
}

/* The value of property prop in a lower-cased style, whitespace removed,
 * into val; false when absent (the last declaration wins). */
static bool
style_get(const char *style, const char *prop, char *val, size_t cap)
{
	size_t k = strlen(prop);
	const char *p = style;
	bool found = false;

	while (*p != '\0') {
		const char *s, *e;

		while (is_space(*p) || *p == ';')
			p++;
		s = p;
		while (*p != '\0' && *p != ';')
			p++;
		e = p;
		/* s..e is one declaration */
		if ((size_t)(e - s) > k && strncmp(s, prop, k) == 0) {
			const char *q = s + k;

			while (q < e && is_space(*q))
				q++;
			if (q < e && *q == ':') {
				size_t n = 0;

				for (q++; q < e && n + 1 < cap; q++)
					if (!is_space(*q))
						val[n++] = *q;
				val[n] = '\0';
				if (n >= 10 && strcmp(val + n - 10, "!important") == 0)
					val[n - 10] = '\0';
				found = true;
			}
		}
	}
	return found;
}

/* A length in px (or a bare number); false when it is not one. */
static bool
style_num(const char *style, const char *prop, double *ret)
{
	char v[64], *e;
	double d;

	if (!style_get(style, prop, v, sizeof(v)) || v[0] == '\0')
		return false;
	d = strtod(v, &e);
	if (e == v)
		return false;
	*ret = d;
	return true;
}

static bool
style_is(const char *style, const char *prop, const char *want)
{
	char v[64];

	return style_get(style, prop, v, sizeof(v)) && strcmp(v, want) == 0;
}

/* Whether a style hides its element. */
static bool
style_hides(const char *style)
{
	char c[64], bg[64];
	double d = 0;

	if (style[0] == '\0')
		return false;
	if (style_is(style, "display", "none") || style_is(style, "visibility", "hidden"))
		return true;
	if (style_num(style, "font-size", &d) && d <= 0)
		return true;
	if (style_is(style, "overflow", "hidden") &&
		((style_num(style, "width", &d) && d <= 1) || (style_num(style, "height", &d) && d <= 1)))
		return true;
	if (style_is(style, "position", "absolute") &&
		((style_num(style, "left", &d) && d <= -999) || (style_num(style, "top", &d) && d <= -999)))
		return true;
	if (style_num(style, "text-indent", &d) && d <= -999)
		return true;
	if (style_get(style, "color", c, sizeof(c)) && c[0] != '\0' &&
		(style_get(style, "background-color", bg, sizeof(bg)) ||
		 style_get(style, "background", bg, sizeof(bg))) && strcmp(c, bg) == 0)
		return true;
	return false;
}

/* The host of an absolute http(s) (or protocol-relative) link, lower-cased,
 * into host; false for a relative link or another scheme. */
static bool
link_host(const char *href, char *host, size_t cap)
{
	const char *p = href, *s;
	size_t n = 0;

	while (is_space(*p))
		p++;
	if (strncasecmp(p, "http://", 7) == 0)
		p += 7;
	else if (strncasecmp(p, "https://", 8) == 0)
		p += 8;
	else if (p[0] == '/' && p[1] == '/')
		p += 2;
	else
		return false;
	s = p;
	/* skip user info */
	for (const char *q = s; *q != '\0' && *q != '/' && *q != '?' && *q != '#'; q++)
		if (*q == '@')
			s = q + 1;
	for (p = s; *p != '\0' && *p != '/' && *p != '?' && *p != '#' && *p != ':' &&
		     *p != '\\' && n + 1 < cap; p++)
		host[n++] = lower(*p);
	while (n > 0 && host[n - 1] == '.')
		n--;
	host[n] = '\0';
	return n > 0;
}

static bool
own_host(const struct inspector *in, const char *host)
{
	size_t n = strlen(host);

	if (in == NULL)
		return false;
	for (size_t i = 0; i < in->nown; i++) {
		size_t k = strlen(in->own[i]);

		if (strcmp(host, in->own[i]) == 0 ||
			(n > k && host[n - k - 1] == '.' && strcmp(host + n - k, in->own[i]) == 0))
			return true;
	}
	return false;
}

static bool
is_void(const char *name)
{
	static const char *const v[] = {
		"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
		"param", "source", "track", "wbr",
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (strcmp(name, v[i]) == 0)
			return true;
	return false;
}

/* ---- style sheets: the classes and ids they hide ---- */

struct hidden_names {
	char	(*name)[MAX_NAME];	/* "." class or "#" id, then the name */
	size_t	 n;
};

static void
hidden_add(struct hidden_names *h, char kind, const char *p, size_t n)
{
	if (n == 0 || n + 2 > MAX_NAME || h->n == MAX_HIDDEN_NAMES)
		return;
	for (size_t i = 0; i < h->n; i++)
		if (h->name[i][0] == kind && strlen(h->name[i] + 1) == n &&
				memcmp(h->name[i] + 1, p, n) == 0)
			return;
	h->name[h->n][0] = kind;
	memcpy(h->name[h->n] + 1, p, n);
	h->name[h->n][n + 1] = '\0';
	h->n++;
}

static bool
hidden_has(const struct hidden_names *h, char kind, const char *p, size_t n)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->name[i][0] == kind && strlen(h->name[i] + 1) == n &&
				memcmp(h->name[i] + 1, p, n) == 0)
			return true;
	return false;
}

static bool
css_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '-' || c == '_' || (unsigned char)c >= 0x80;
}

/* Record the .class and #id names of one compound selector [p, e). */
static void
compound_names(struct hidden_names *h, const char *p, const char *e)
{
	while (p < e) {
		if ((*p == '.' || *p == '#') && p + 1 < e) {
			char kind = *p;
			const char *s = ++p;

			while (p < e && css_name_char(*p))
				p++;
			hidden_add(h, kind, s, (size_t)(p - s));
		} else {
			p++;
		}
	}
}

/* One selector [s, e) whose rule hides: the names of the element it selects
 * (its last compound), or, when that is a bare "a", of the compounds before
 * it (the links inside them are hidden). */
static void
selector_names(struct hidden_names *h, const char *s, const char *e)
{
	const char *last = e, *q;

	while (e > s && is_space(e[-1]))
		e--;
	while (s < e && is_space(*s))
		s++;
	for (q = e; q > s; q--)
		if (is_space(q[-1]) || q[-1] == '>' || q[-1] == '+' || q[-1] == '~')
			break;
	last = q;
	if (e - last == 1 && (*last == 'a' || *last == 'A'))
		compound_names(h, s, last);
	else
		compound_names(h, last, e);
}

/* The rules of one style sheet [p, end). */
static void
sheet_names(struct hidden_names *h, const char *p, const char *end)
{
	char *decl = xmalloc(MAX_ATTR);

	while (p < end) {
		const char *sel = p, *ob, *cb;
		size_t n = 0;

		if (end - p >= 2 && p[0] == '/' && p[1] == '*') {
			const char *c = memmem(p + 2, (size_t)(end - p - 2), "*/", 2);

			p = c != NULL ? c + 2 : end;
			continue;
		}
		if (*p == '}' || is_space(*p) || *p == ';') {
			p++;
			continue;
		}
		ob = memchr(p, '{', (size_t)(end - p));
		if (ob == NULL)
			break;
		if (*sel == '@') {
			p = ob + 1;	/* @media ... { rules }: read the rules inside */
			continue;
		}
		cb = memchr(ob, '}', (size_t)(end - ob));
		if (cb == NULL)
			cb = end;
		for (const char *q = ob + 1; q < cb && n + 1 < MAX_ATTR; q++)
			decl[n++] = lower(*q);
		decl[n] = '\0';
		if (style_hides(decl))
			for (const char *s = sel, *c; s < ob; s = c + 1) {
				c = memchr(s, ',', (size_t)(ob - s));
				if (c == NULL)
					c = ob;
				selector_names(h, s, c);
			}
		p = cb < end ? cb + 1 : end;
	}
	free(decl);
}

/* Every <style> element of the page. */
static void
page_hidden_names(const char *data, const char *low, size_t len, struct hidden_names *h)
{
	const char *p = low, *end = low + len;

	while (p < end) {
		const char *o = memmem(p, (size_t)(end - p), "<style", 6), *gt, *c;

		if (o == NULL)
			break;
		gt = memchr(o, '>', (size_t)(end - o));
		if (gt == NULL)
			break;
		c = memmem(gt, (size_t)(end - gt), "</style", 7);
		if (c == NULL)
			c = end;
		sheet_names(h, data + (gt + 1 - low), data + (c - low));
		p = c;
	}
}

/* Whether an element's class or id is one a style sheet hides. */
static bool
names_hidden(const struct hidden_names *h, const struct attrs *a)
{
	const char *p = a->cls;

	if (h->n == 0)
		return false;
	if (a->id[0] != '\0' && hidden_has(h, '#', a->id, strlen(a->id)))
		return true;
	while (*p != '\0') {
		const char *s;

		while (is_space(*p))
			p++;
		s = p;
		while (*p != '\0' && !is_space(*p))
			p++;
		if (p > s && hidden_has(h, '.', s, (size_t)(p - s)))
			return true;
	}
	return false;
}

struct open_el {
	char	name[16];
	bool	hidden;
};

static int
find_hidden_link(const struct inspector *in, const char *data, const char *low, size_t len,
	struct inspect_finding *ret)
{
	struct open_el *st = xcalloc(MAX_DEPTH, sizeof(*st));
	struct attrs *a = xmalloc(sizeof(*a));
	struct hidden_names names = { xcalloc(MAX_HIDDEN_NAMES, MAX_NAME), 0 };
	const char *p = data, *end = data + len;
	size_t depth = 0;
	int r = 0;

	page_hidden_names(data, low, len, &names);
	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p)), *ns;
		char name[16];
		size_t n = 0;
		bool closing = false, self_closing, hidden;

		if (lt == NULL)
			break;
		p = lt + 1;
		if (end - p >= 3 && memcmp(p, "!--", 3) == 0) {
			const char *e = memmem(p + 3, (size_t)(end - p - 3), "-->", 3);

			p = e != NULL ? e + 3 : end;
			continue;
		}
		if (p < end && *p == '/') {
			closing = true;
			p++;
		}
		ns = p;
		while (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				       (*p >= '0' && *p <= '9'))) {
			if (n + 1 < sizeof(name))
				name[n++] = lower(*p);
			p++;
		}
		name[n] = '\0';
		if (p == ns)
			continue;	/* "<" in text, "<!doctype", "<?php" */
		memset(a, 0, sizeof(*a));
		p = parse_attrs(p, end, a, &self_closing);
		if (closing) {
			for (size_t i = depth; i-- > 0;) {
				if (strcmp(st[i].name, name) == 0) {
					depth = i;
					break;
				}
			}
			continue;
		}
		hidden = (depth > 0 && st[depth - 1].hidden) || style_hides(a->style) ||
			names_hidden(&names, a);
		if (strcmp(name, "marquee") == 0 && a->height[0] != '\0' && strtod(a->height, NULL) <= 1)
			hidden = true;
		if (strcmp(name, "a") == 0 && hidden && a->has_href) {
			char host[256];

			if (link_host(a->href, host, sizeof(host)) && !own_host(in, host)) {
				ret->kind = "hidden_link";
				copy_attr(ret->what, sizeof(ret->what), a->href, a->href + strlen(a->href), false);
				ret->offset = (uint64_t)(lt - data);
				r = 1;
				break;
			}
		}
		if (!self_closing && !is_void(name) && depth < MAX_DEPTH) {
			memcpy(st[depth].name, name, sizeof(name));
			st[depth].hidden = hidden;
			depth++;
		}
	}
	free(st);
	free(a);
	free(names.name);
	return r;
}

/* ---- the page's text ---- */

/* UTF-8 of code point c into out (4 bytes room); its length, 0 when c is no
 * character (0, a surrogate, beyond U+10FFFF). */
static size_t
put_utf8(unsigned long c, char *out)
{
	if (c == 0 || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | (c >> 6));
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | (c >> 12));
		out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (c >> 18));
	out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* A character reference at s[0] == '&' (at most n bytes): its text into out
 * and its length in *ret_used; 0 when it is not one we read. */
static size_t
char_ref(const char *s, size_t n, char *out, size_t *ret_used)
{
	static const struct { const char *name; const char *text; } named[] = {
		{ "amp;", "&" }, { "lt;", "<" }, { "gt;", ">" }, { "quot;", "\"" },
		{ "apos;", "'" }, { "nbsp;", " " },
	};
	unsigned long c = 0;
	size_t i = 1, digits = 0;
	bool hex = false;

	if (n > 1 && s[1] != '#') {
		for (size_t k = 0; k < sizeof(named) / sizeof(named[0]); k++) {
			size_t l = strlen(named[k].name);

			if (n > l && strncasecmp(s + 1, named[k].name, l) == 0) {
				*ret_used = l + 1;
				out[0] = named[k].text[0];
				return 1;
			}
		}
		return 0;
	}
	i = 2;
	if (i < n && (s[i] == 'x' || s[i] == 'X')) {
		hex = true;
		i++;
	}
	for (; i < n && digits < 8; i++, digits++) {
		char d = s[i];
		int v = d >= '0' && d <= '9' ? d - '0' : hex && d >= 'a' && d <= 'f' ? d - 'a' + 10 :
			hex && d >= 'A' && d <= 'F' ? d - 'A' + 10 : -1;

		if (v < 0)
			break;
		c = c * (hex ? 16 : 10) + (unsigned long)v;
	}
	if (digits == 0 || i >= n || s[i] != ';')
		return 0;
	*ret_used = i + 1;
	return put_utf8(c, out);
}

/* The page's text, ASCII lower-cased, into out (room for n bytes: it is
 * never longer than the page): tags and comments taken out, character
 * references decoded. Its length. With out NULL, the offset in the page of
 * the text's byte number stop_at instead. */
static size_t
page_text(const char *s, size_t n, char *out, size_t stop_at)
{
	size_t i = 0, o = 0;

	while (i < n) {
		char c = s[i], ref[4];
		size_t used = 0, k;

		if (c == '<' && i + 1 < n && (((s[i + 1] | 0x20) >= 'a' && (s[i + 1] | 0x20) <= 'z') ||
				s[i + 1] == '/' || s[i + 1] == '!' || s[i + 1] == '?')) {
			const char *e;

			if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
				e = memmem(s + i + 4, n - i - 4, "-->", 3);
				i = e != NULL ? (size_t)(e - s) + 3 : n;
			} else {
				e = memchr(s + i, '>', n - i);
				i = e != NULL ? (size_t)(e - s) + 1 : n;
			}
			continue;
		}
		if (c == '&' && (k = char_ref(s + i, n - i, ref, &used)) > 0) {
			if (out == NULL && stop_at < o + k)
				return i;
			if (out != NULL)
				for (size_t j = 0; j < k; j++)
					out[o + j] = lower(ref[j]);
			o += k;
			i += used;
			continue;
		}
		if (out == NULL && stop_at == o)
			return i;
		if (out != NULL)
			out[o] = lower(c);
		o++;
		i++;
	}
	return out != NULL ? o : n;
}

int
inspect_content(const struct inspector *in, const char *data, size_t len,
	struct inspect_finding *ret)
{
	struct inspect_finding f = { 0 };
	char *conv = NULL, *low;
	const char *text = data;
	size_t tlen = len;
	int r = 0;

	if (len > INSPECT_MAX_BYTES)
		return -E2BIG;
	low = xmalloc(len + 1);
	for (size_t i = 0; i < len; i++)
		low[i] = lower(data[i]);
	low[len] = '\0';
	if (declares_gb(low, len) || !valid_utf8((const unsigned char *)data, len)) {
		conv = gb_to_utf8(data, len, &tlen);
		if (conv != NULL) {
			text = conv;
			free(low);
			low = xmalloc(tlen + 1);
			for (size_t i = 0; i < tlen; i++)
				low[i] = lower(text[i]);
			low[tlen] = '\0';
		} else {
			tlen = len;
		}
	}
	if (in != NULL) {
		for (size_t i = 0; i < in->nkw; i++) {
			long long off = find_lower(low, tlen, in->kw[i], in->kwlen[i]);

			if (off >= 0) {
				f.kind = "keyword";
				copy_attr(f.what, sizeof(f.what), in->kw[i], in->kw[i] + in->kwlen[i], false);
				f.offset = (uint64_t)off;
				r = 1;
				break;
			}
		}
	}
	if (r == 0 && in != NULL && in->nkw > 0 &&
			(memchr(text, '<', tlen) != NULL || memchr(text, '&', tlen) != NULL)) {
		/* again in the text: keywords split by markup or written as
		 * character references */
		char *pt = xmalloc(tlen + 1);
		size_t plen = page_text(text, tlen, pt, 0);

		for (size_t i = 0; i < in->nkw; i++) {
			long long off = find_lower(pt, plen, in->kw[i], in->kwlen[i]);

			if (off >= 0) {
				f.kind = "keyword";
				copy_attr(f.what, sizeof(f.what), in->kw[i], in->kw[i] + in->kwlen[i], false);
				f.offset = (uint64_t)page_text(text, tlen, NULL, (size_t)off);
				r = 1;
				break;
			}
		}
		free(pt);
	}
	if (r == 0)
		r = find_hidden_link(in, text, low, tlen, &f);
	if (r == 1)
		*ret = f;
	free(low);
	free(conv);
	return r;
}

int
inspect_fd(const struct inspector *in, int fd, struct inspect_finding *ret)
{
	struct stat sb;
	char *data;
	size_t got = 0;
	int r;

	if (fstat(fd, &sb) < 0)
		return -errno;
	if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > INSPECT_MAX_BYTES)
		return 0;
	data = xmalloc((size_t)sb.st_size + 1);
	while (got < (size_t)sb.st_size) {
		ssize_t k = pread(fd, data + got, (size_t)sb.st_size - got, (off_t)got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			goto out;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	r = inspect_content(in, data, got, ret);
out:
	free(data);
	return r;
}

int
inspect_file(const struct inspector *in, int dirfd, const char *path,
	struct inspect_finding *ret)
{
	int fd, r;

	if (!inspect_wants(path, 0))
		return 0;
	fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	r = inspect_fd(in, fd, ret);
	close(fd);
	return r;
}
