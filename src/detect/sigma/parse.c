/*
 * parse.c - Sigma rule files into struct sigma_rule and struct
 * sigma_correlation (rule.h): the YAML tree (yaml_doc.h) checked against the
 * Sigma specification, modifiers applied (base64, base64offset and windash
 * expanded here so the compiler sees plain values), the condition parsed
 * (condition.c). A rule that cannot be used is recorded with the reason; the
 * others go on.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fdio.h"
#include "core/timeutil.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "detect/sigma/condition.h"
#include "detect/sigma/rule.h"
#include "detect/sigma/yaml_doc.h"
#include "core/banned.h"

#define SIGMA_MAX_FILES 100000
#define SIGMA_MAX_FILE_SIZE (16u << 20)
#define SIGMA_MAX_DIR_DEPTH 64
#define SIGMA_MAX_SELECTIONS 1024
#define SIGMA_MAX_VALUES 4096	     /* per field test, after expansion */
#define SIGMA_MAX_WINDASH 625	     /* variants of one value: 4 dashes */
#define SIGMA_MAX_RULE_VALUES 100000 /* per rule, after expansion */

/* Why a document was refused: message and the line of the offending node. */
struct perr {
	char msg[512];
	unsigned line;
	size_t nvalues; /* values made so far for this rule */
};

static int fail(struct perr *e, const struct ynode *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(struct perr *e, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;

	if (e->msg[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
		if (n != NULL)
			e->line = n->line;
	}
	return -EINVAL;
}

const char *
sigma_level_name(enum sigma_level level)
{
	static const char *const names[] = {"informational", "low", "medium", "high", "critical"};

	if ((unsigned)level < sizeof(names) / sizeof(names[0]))
		return names[level];
	return "unknown";
}

/* --- the ruleset ------------------------------------------------------------- */

static void add_error(struct sigma_ruleset *rs, const char *path, unsigned line, const char *fmt,
		      ...) __attribute__((format(printf, 4, 5)));

static void
add_error(struct sigma_ruleset *rs, const char *path, unsigned line, const char *fmt, ...)
{
	struct sigma_error *e;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rs->errors = xgrow(rs->errors, &rs->errors_cap, rs->nerrors + 1, sizeof(*rs->errors));
	e = &rs->errors[rs->nerrors++];
	e->path = xstrdup(path);
	e->line = line;
	e->message = xstrdup(msg);
}

static void
strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
rule_free(struct sigma_rule *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nsels; i++) {
		struct sigma_selection *s = &r->sels[i];

		for (size_t j = 0; j < s->nmaps; j++) {
			struct sigma_map *m = &s->maps[j];

			for (size_t k = 0; k < m->ntests; k++) {
				struct sigma_field_test *t = &m->tests[k];

				for (size_t v = 0; v < t->nvalues; v++)
					free(t->values[v].text);
				free(t->values);
				free(t->field);
			}
			free(m->tests);
		}
		free(s->maps);
		free(s->name);
	}
	free(r->sels);
	for (size_t i = 0; i < r->ncond_nodes; i++)
		free(r->cond_nodes[i].sels);
	free(r->cond_nodes);
	free(r->conditions);
	strv_free(r->tags, r->ntags);
	free(r->id);
	free(r->name);
	free(r->title);
	free(r->description);
	free(r->status);
	free(r->logsource.product);
	free(r->logsource.category);
	free(r->logsource.service);
	free(r->path);
	free(r);
}

static void
corr_free(struct sigma_correlation *c)
{
	if (c == NULL)
		return;
	free(c->id);
	free(c->name);
	free(c->title);
	strv_free(c->rules, c->nrules);
	strv_free(c->group_by, c->ngroup_by);
	free(c->value_field);
	free(c->path);
	free(c);
}

void
sigma_ruleset_release(struct sigma_ruleset *rs)
{
	if (rs == NULL)
		return;
	for (size_t i = 0; i < rs->nrules; i++)
		rule_free(rs->rules[i]);
	free(rs->rules);
	for (size_t i = 0; i < rs->ncorrs; i++)
		corr_free(rs->corrs[i]);
	free(rs->corrs);
	for (size_t i = 0; i < rs->nerrors; i++) {
		free(rs->errors[i].path);
		free(rs->errors[i].message);
	}
	free(rs->errors);
	memset(rs, 0, sizeof(*rs));
}

/* --- small readers of the tree ------------------------------------------------ */

/* Every scalar is UTF-8 without NUL bytes (the compiler and the alert JSON
 * need text). */
static int
check_text(const struct ynode *n, struct perr *e)
{
	if (n->kind == YNODE_SCALAR) {
		if (memchr(n->text, '\0', n->len) != NULL)
			return fail(e, n, "text holds a NUL byte");
		if (!utf8_valid(n->text, n->len))
			return fail(e, n, "text is not valid UTF-8");
		return 0;
	}
	for (size_t i = 0; i < n->nkids; i++)
		if (check_text(n->kids[i], e) < 0)
			return -EINVAL;
	if (n->kind == YNODE_MAP)
		for (size_t i = 0; i < n->nkids; i += 2)
			if (n->kids[i]->kind != YNODE_SCALAR)
				return fail(e, n->kids[i], "a map key must be text");
	return 0;
}

/* An optional string field: *ret stays NULL when absent. */
static int
get_str(const struct ynode *map, const char *key, bool required, char **ret, struct perr *e)
{
	const struct ynode *n = ynode_get(map, key);

	if (n == NULL || ynode_is_null(n)) {
		if (required)
			return fail(e, map, "no %s", key);
		return 0;
	}
	if (n->kind != YNODE_SCALAR)
		return fail(e, n, "'%s' must be text", key);
	*ret = xstrdup(n->text);
	return 0;
}

/* A string or a list of strings. */
static int
get_strv(const struct ynode *n, const char *what, char ***ret, size_t *ret_n, struct perr *e)
{
	char **v;
	size_t cnt = 0;

	if (n == NULL || ynode_is_null(n))
		return 0;
	if (n->kind == YNODE_SCALAR) {
		v = xcalloc(1, sizeof(*v));
		v[0] = xstrdup(n->text);
		*ret = v;
		*ret_n = 1;
		return 0;
	}
	if (n->kind != YNODE_SEQ)
		return fail(e, n, "'%s' must be a list of text", what);
	for (size_t i = 0; i < n->nkids; i++)
		if (n->kids[i]->kind != YNODE_SCALAR)
			return fail(e, n->kids[i], "'%s' must be a list of text", what);
	v = xcalloc(n->nkids ? n->nkids : 1, sizeof(*v));
	for (size_t i = 0; i < n->nkids; i++)
		v[cnt++] = xstrdup(n->kids[i]->text);
	*ret = v;
	*ret_n = cnt;
	return 0;
}

static char *
lowercase_dup(const char *s)
{
	char *d = xstrdup(s);

	for (char *p = d; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

static int
get_level(const struct ynode *map, enum sigma_level *ret, struct perr *e)
{
	const struct ynode *n = ynode_get(map, "level");

	*ret = SIGMA_MEDIUM;
	if (n == NULL || ynode_is_null(n))
		return 0;
	if (n->kind == YNODE_SCALAR)
		for (int l = SIGMA_INFORMATIONAL; l <= SIGMA_CRITICAL; l++)
			if (strcasecmp(n->text, sigma_level_name((enum sigma_level)l)) == 0) {
				*ret = (enum sigma_level)l;
				return 0;
			}
	return fail(e, n, "unknown level '%s' (informational, low, medium, high or critical)",
		    n->kind == YNODE_SCALAR ? n->text : "?");
}

/* The rule's id, or the file's name (with "#N" for documents after the first). */
static char *
default_id(const char *path, size_t docidx)
{
	const char *base = strrchr(path, '/');

	base = base != NULL ? base + 1 : path;
	if (docidx == 0)
		return xstrdup(base);
	return xasprintf("%s#%zu", base, docidx + 1);
}

/* --- values and modifiers ------------------------------------------------------ */

enum {
	M_CONTAINS = 1u << 0,
	M_STARTSWITH = 1u << 1,
	M_ENDSWITH = 1u << 2,
	M_ALL = 1u << 3,
	M_RE = 1u << 4,
	M_CIDR = 1u << 5,
	M_BASE64 = 1u << 6,
	M_BASE64OFFSET = 1u << 7,
	M_WINDASH = 1u << 8,
	M_EXISTS = 1u << 9,
	M_CASED = 1u << 10,
};

struct mods {
	unsigned flags;
	unsigned re_flags;
};

static int
parse_mods(char **parts, size_t nparts, const struct ynode *key, struct mods *m, struct perr *e)
{
	static const struct {
		const char *name;
		unsigned flag;
	} known[] = {
		{"contains", M_CONTAINS},
		{"startswith", M_STARTSWITH},
		{"endswith", M_ENDSWITH},
		{"all", M_ALL},
		{"re", M_RE},
		{"cidr", M_CIDR},
		{"base64", M_BASE64},
		{"base64offset", M_BASE64OFFSET},
		{"windash", M_WINDASH},
		{"exists", M_EXISTS},
		{"cased", M_CASED},
	};
	static const char *const unsupported[][2] = {
		{"expand", "placeholders are not supported"},
		{"utf16le", "UTF-16 encodings are not supported"},
		{"utf16be", "UTF-16 encodings are not supported"},
		{"utf16", "UTF-16 encodings are not supported"},
		{"wide", "UTF-16 encodings are not supported"},
		{"gt", "numeric comparisons are not supported"},
		{"gte", "numeric comparisons are not supported"},
		{"lt", "numeric comparisons are not supported"},
		{"lte", "numeric comparisons are not supported"},
		{"fieldref", "field references are not supported"},
	};
	unsigned ops;

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < nparts; i++) {
		const char *p = parts[i];
		bool found = false;

		if ((m->flags & M_RE) &&
		    (strcmp(p, "i") == 0 || strcmp(p, "m") == 0 || strcmp(p, "s") == 0)) {
			m->re_flags |= p[0] == 'i'   ? SIGMA_RE_I
				       : p[0] == 'm' ? SIGMA_RE_M
						     : SIGMA_RE_S;
			continue;
		}
		for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (strcmp(p, known[k].name) == 0) {
				m->flags |= known[k].flag;
				found = true;
			}
		if (found)
			continue;
		for (size_t k = 0; k < sizeof(unsupported) / sizeof(unsupported[0]); k++)
			if (strcmp(p, unsupported[k][0]) == 0)
				return fail(e, key, "modifier '%s' is not supported: %s", p,
					    unsupported[k][1]);
		return fail(e, key, "unknown modifier '%s'", p);
	}
	ops = m->flags & (M_CONTAINS | M_STARTSWITH | M_ENDSWITH);
	if (ops & (ops - 1))
		return fail(e, key,
			    "modifiers contains, startswith and endswith exclude each other");
	if ((m->flags & M_RE) && (m->flags & ~(M_RE | M_ALL | M_CASED)))
		return fail(e, key,
			    "modifier 're' can only be combined with i, m, s, all and cased");
	if ((m->flags & M_CIDR) && (m->flags & ~(M_CIDR | M_ALL)))
		return fail(e, key, "modifier 'cidr' cannot be combined with other modifiers");
	if ((m->flags & M_EXISTS) && m->flags != M_EXISTS)
		return fail(e, key, "modifier 'exists' cannot be combined with other modifiers");
	if ((m->flags & M_BASE64) && (m->flags & M_BASE64OFFSET))
		return fail(e, key, "modifiers base64 and base64offset exclude each other");
	if ((m->flags & M_BASE64OFFSET) && (m->flags & (M_STARTSWITH | M_ENDSWITH)))
		return fail(e, key, "modifier 'base64offset' is only meaningful with 'contains'");
	return 0;
}

/* Sigma escapes: "\*", "\?" and "\\" are the literal character; any other
 * backslash is itself. */
static bool
has_wildcards(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len &&
		    (s[i + 1] == '*' || s[i + 1] == '?' || s[i + 1] == '\\'))
			i++;
		else if (s[i] == '*' || s[i] == '?')
			return true;
	}
	return false;
}

static void
unescape(struct buf *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len &&
		    (s[i + 1] == '*' || s[i + 1] == '?' || s[i + 1] == '\\'))
			i++;
		(void)buf_putc(out, s[i]);
	}
}

static void
base64_encode(struct buf *out, const unsigned char *p, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		(void)buf_putc(out, tab[(v >> 18) & 63]);
		(void)buf_putc(out, tab[(v >> 12) & 63]);
		(void)buf_putc(out, i + 1 < n ? tab[(v >> 6) & 63] : '=');
		(void)buf_putc(out, i + 2 < n ? tab[v & 63] : '=');
	}
}

/* Wildcard characters in base64 output never occur, but a backslash could
 * not either: the alphabet is [A-Za-z0-9+/=]. So the text needs no escaping. */

struct vlist {
	struct sigma_value *v;
	size_t n, cap;
};

static int
vlist_add(struct vlist *l, const struct sigma_value *proto, const char *text, size_t len,
	  const struct ynode *at, struct perr *e)
{
	struct sigma_value *v;

	if (l->n >= SIGMA_MAX_VALUES || e->nvalues >= SIGMA_MAX_RULE_VALUES)
		return fail(e, at, "too many values (over %d in a test, %d in a rule)",
			    SIGMA_MAX_VALUES, SIGMA_MAX_RULE_VALUES);
	e->nvalues++;
	l->v = xgrow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
	v = &l->v[l->n++];
	*v = *proto;
	v->text = NULL;
	v->len = 0;
	if (text != NULL) {
		v->text = xstrndup(text, len);
		v->len = len;
	}
	return 0;
}

static void
vlist_release(struct vlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].text);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static bool
is_word_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

/* windash: each '-' or '/' that starts a word (after a non-word character or
 * at the start, and before a word character: pySigma's \B[-/]\b) becomes each
 * of - / – — ―. Appends every combination to out. */
static const char *const windash_chars[] = {"-", "/", "\xe2\x80\x93", "\xe2\x80\x94",
					    "\xe2\x80\x95"};
#define NWINDASH 5

static int
windash_expand(const char *s, size_t len, struct vlist *out, const struct sigma_value *proto,
	       const struct ynode *at, struct perr *e)
{
	size_t pos[8], npos = 0, total = 1;
	struct buf b;
	int r = 0;

	for (size_t i = 0; i < len; i++) {
		bool before_ok = i == 0 || !is_word_char((unsigned char)s[i - 1]);

		if ((s[i] == '-' || s[i] == '/') && before_ok && i + 1 < len &&
		    is_word_char((unsigned char)s[i + 1])) {
			if (npos == sizeof(pos) / sizeof(pos[0]) ||
			    total * NWINDASH > SIGMA_MAX_WINDASH)
				return fail(e, at, "too many values after windash expansion");
			pos[npos++] = i;
			total *= NWINDASH;
		}
	}
	buf_init(&b, 4 * len + 16);
	for (size_t combo = 0; combo < total && r == 0; combo++) {
		size_t c = combo, prev = 0;

		buf_reset(&b);
		for (size_t k = 0; k < npos; k++) {
			(void)buf_append(&b, s + prev, pos[k] - prev);
			(void)buf_puts(&b, windash_chars[c % NWINDASH]);
			c /= NWINDASH;
			prev = pos[k] + 1;
		}
		(void)buf_append(&b, s + prev, len - prev);
		r = vlist_add(out, proto, b.data, b.len, at, e);
	}
	buf_release(&b);
	if (r == 0 && out->n > SIGMA_MAX_VALUES)
		r = fail(e, at, "too many values after windash expansion");
	return r;
}

static bool
cidr_valid(const char *s)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned char bin[16];
	long maxbits, bits;
	char *end;

	if (alen == 0 || alen >= sizeof(addr))
		return false;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, bin) == 1)
		maxbits = 32;
	else if (inet_pton(AF_INET6, addr, bin) == 1)
		maxbits = 128;
	else
		return false;
	if (slash == NULL)
		return true;
	if (slash[1] < '0' || slash[1] > '9')
		return false;
	bits = strtol(slash + 1, &end, 10);
	return *end == '\0' && bits >= 0 && bits <= maxbits;
}

/* One scalar of a field test, with the modifiers applied, appended to out. */
static int
add_value(const struct ynode *n, const struct mods *m, bool keyword, struct vlist *out,
	  struct perr *e)
{
	struct sigma_value proto = {.op = SIGMA_EQUALS};
	struct vlist wd = {0};
	struct buf raw, enc;
	int r = 0;

	if (n->kind != YNODE_SCALAR)
		return fail(e, n, "a value must be text, a number or a boolean, or a list of them");
	proto.cased = (m->flags & M_CASED) != 0;
	if (m->flags & M_EXISTS) {
		proto.op = SIGMA_EXISTS;
		if (!n->quoted && strcasecmp(n->text, "true") == 0)
			proto.exists = true;
		else if (!n->quoted && strcasecmp(n->text, "false") == 0)
			proto.exists = false;
		else
			return fail(e, n, "modifier 'exists' takes true or false");
		return vlist_add(out, &proto, NULL, 0, n, e);
	}
	if (ynode_is_null(n)) {
		if (keyword)
			return fail(e, n, "a keyword cannot be null");
		proto.op = SIGMA_NULL;
		return vlist_add(out, &proto, NULL, 0, n, e);
	}
	if (m->flags & M_RE) {
		proto.op = SIGMA_RE;
		proto.re_flags = m->re_flags;
		if (n->len == 0)
			return fail(e, n, "empty regular expression");
		return vlist_add(out, &proto, n->text, n->len, n, e);
	}
	if (m->flags & M_CIDR) {
		proto.op = SIGMA_CIDR;
		if (!cidr_valid(n->text))
			return fail(e, n, "'%s' is not a network (CIDR)", n->text);
		return vlist_add(out, &proto, n->text, n->len, n, e);
	}
	if (m->flags & M_CONTAINS || keyword)
		proto.op = SIGMA_CONTAINS;
	else if (m->flags & M_STARTSWITH)
		proto.op = SIGMA_STARTSWITH;
	else if (m->flags & M_ENDSWITH)
		proto.op = SIGMA_ENDSWITH;

	/* windash first, then the encodings, as pySigma applies them in order. */
	if (m->flags & M_WINDASH)
		r = windash_expand(n->text, n->len, &wd, &proto, n, e);
	else
		r = vlist_add(&wd, &proto, n->text, n->len, n, e);
	if (r < 0)
		goto out;
	e->nvalues -= wd.n; /* an intermediate list: only what goes to out counts */
	if (!(m->flags & (M_BASE64 | M_BASE64OFFSET))) {
		for (size_t i = 0; i < wd.n && r == 0; i++) {
			wd.v[i].wildcards = has_wildcards(wd.v[i].text, wd.v[i].len);
			r = vlist_add(out, &wd.v[i], wd.v[i].text, wd.v[i].len, n, e);
		}
		goto out;
	}
	if (has_wildcards(n->text, n->len)) {
		r = fail(e, n, "base64 of a value with wildcards is not possible");
		goto out;
	}
	buf_init(&raw, 0);
	buf_init(&enc, 0);
	for (size_t i = 0; i < wd.n && r == 0; i++) {
		buf_reset(&raw);
		unescape(&raw, wd.v[i].text, wd.v[i].len);
		if (m->flags & M_BASE64) {
			buf_reset(&enc);
			base64_encode(&enc, (const unsigned char *)raw.data, raw.len);
			r = vlist_add(out, &proto, enc.data, enc.len, n, e);
			continue;
		}
		/* base64offset (pySigma's SigmaBase64OffsetModifier): the value
		 * after 0, 1 and 2 leading bytes, with the characters that depend
		 * on the unknown neighbours cut: 0/2/3 at the start, and at the
		 * end none, 3 or 2 by (len + offset) % 3. */
		proto.op = SIGMA_CONTAINS;
		for (size_t off = 0; off < 3 && r == 0; off++) {
			static const size_t cut_start[] = {0, 2, 3}, cut_end[] = {0, 3, 2};
			size_t ce = cut_end[(raw.len + off) % 3], cs = cut_start[off];
			struct buf in;

			buf_init(&in, 0);
			for (size_t k = 0; k < off; k++)
				(void)buf_putc(&in, ' ');
			(void)buf_append(&in, raw.data, raw.len);
			buf_reset(&enc);
			base64_encode(&enc, (const unsigned char *)in.data, in.len);
			buf_release(&in);
			if (enc.len <= cs + ce)
				continue; /* too short to say anything */
			r = vlist_add(out, &proto, enc.data + cs, enc.len - cs - ce, n, e);
		}
	}
	buf_release(&raw);
	buf_release(&enc);
out:
	vlist_release(&wd);
	return r;
}

/* --- detection ------------------------------------------------------------------ */

/* Split "field|mod|mod" at '|'. */
static size_t
split_key(const char *key, char **parts, size_t max)
{
	size_t n = 0;
	const char *p = key;

	for (;;) {
		const char *bar = strchr(p, '|');
		size_t len = bar != NULL ? (size_t)(bar - p) : strlen(p);

		if (n == max)
			return n + 1;
		parts[n++] = xstrndup(p, len);
		if (bar == NULL)
			return n;
		p = bar + 1;
	}
}

static int
parse_test(const struct ynode *key, const struct ynode *val, struct sigma_field_test *t,
	   struct perr *e)
{
	char *parts[17] = {0};
	size_t nparts = split_key(key->text, parts, 16);
	struct vlist vl = {0};
	struct mods m;
	int r;

	memset(t, 0, sizeof(*t));
	if (nparts > 16) {
		r = fail(e, key, "too many modifiers");
		goto out;
	}
	r = parse_mods(parts + 1, nparts - 1, key, &m, e);
	if (r < 0)
		goto out;
	if (val->kind == YNODE_SEQ) {
		if (val->nkids == 0) {
			r = fail(e, val, "'%s' has an empty list of values", key->text);
			goto out;
		}
		for (size_t i = 0; i < val->nkids && r == 0; i++)
			r = add_value(val->kids[i], &m, parts[0][0] == '\0', &vl, e);
	} else {
		r = add_value(val, &m, parts[0][0] == '\0', &vl, e);
	}
	if (r < 0)
		goto out;
	t->field = parts[0][0] != '\0' ? xstrdup(parts[0]) : NULL;
	t->all = (m.flags & M_ALL) != 0;
	t->values = vl.v;
	t->nvalues = vl.n;
	memset(&vl, 0, sizeof(vl));
out:
	vlist_release(&vl);
	for (size_t i = 0; i < nparts && i < 16; i++)
		free(parts[i]);
	return r;
}

static void
map_release(struct sigma_map *m)
{
	for (size_t k = 0; k < m->ntests; k++) {
		for (size_t v = 0; v < m->tests[k].nvalues; v++)
			free(m->tests[k].values[v].text);
		free(m->tests[k].values);
		free(m->tests[k].field);
	}
	free(m->tests);
	memset(m, 0, sizeof(*m));
}

static int
parse_map(const struct ynode *n, struct sigma_map *out, struct perr *e)
{
	struct sigma_map m = {0};
	int r = 0;

	if (n->nkids == 0)
		return fail(e, n, "empty map in a selection");
	m.tests = xcalloc(n->nkids / 2, sizeof(*m.tests));
	for (size_t i = 0; i + 1 < n->nkids; i += 2) {
		r = parse_test(n->kids[i], n->kids[i + 1], &m.tests[m.ntests], e);
		if (r < 0)
			break;
		m.ntests++;
	}
	if (r < 0) {
		map_release(&m);
		return r;
	}
	*out = m;
	return 0;
}

static int
parse_selection(const struct ynode *key, const struct ynode *val, struct sigma_selection *s,
		struct perr *e)
{
	size_t nmaps = 0, nscalars = 0;
	int r = 0;

	memset(s, 0, sizeof(*s));
	if (ynode_is_null(val))
		return fail(e, key, "selection '%s' is empty", key->text);
	if (val->kind == YNODE_MAP) {
		s->maps = xcalloc(1, sizeof(*s->maps));
		r = parse_map(val, &s->maps[0], e);
		if (r == 0)
			s->nmaps = 1;
		goto out;
	}
	if (val->kind == YNODE_SCALAR || val->kind == YNODE_SEQ) {
		if (val->kind == YNODE_SEQ) {
			for (size_t i = 0; i < val->nkids; i++) {
				if (val->kids[i]->kind == YNODE_MAP)
					nmaps++;
				else if (val->kids[i]->kind == YNODE_SCALAR)
					nscalars++;
				else
					return fail(e, val->kids[i],
						    "selection '%s': a list inside a list",
						    key->text);
			}
			if (nmaps == 0 && nscalars == 0)
				return fail(e, val, "selection '%s' is empty", key->text);
			if (nmaps > 0 && nscalars > 0)
				return fail(e, val, "selection '%s' mixes maps and plain values",
					    key->text);
		}
		if (nmaps > 0) {
			s->maps = xcalloc(nmaps, sizeof(*s->maps));
			for (size_t i = 0; i < val->nkids; i++) {
				r = parse_map(val->kids[i], &s->maps[s->nmaps], e);
				if (r < 0)
					goto out;
				s->nmaps++;
			}
			goto out;
		}
		/* Keywords: one map, one test without a field. */
		{
			struct ynode kw = {
				.kind = YNODE_SCALAR, .line = key->line, .text = (char *)""};

			s->maps = xcalloc(1, sizeof(*s->maps));
			s->maps[0].tests = xcalloc(1, sizeof(*s->maps[0].tests));
			r = parse_test(&kw, val, &s->maps[0].tests[0], e);
			if (r < 0) {
				free(s->maps[0].tests);
				goto out;
			}
			s->maps[0].ntests = 1;
			s->nmaps = 1;
		}
		goto out;
	}
	return fail(e, val, "selection '%s' must be a map or a list", key->text);
out:
	if (r < 0) {
		for (size_t i = 0; i < s->nmaps; i++)
			map_release(&s->maps[i]);
		free(s->maps);
		memset(s, 0, sizeof(*s));
		return r;
	}
	s->name = xstrdup(key->text);
	return 0;
}

static int
parse_detection(const struct ynode *det, struct sigma_rule *rule, struct perr *e)
{
	const struct ynode *cond = NULL;
	char cerr[512];
	int r;

	if (det == NULL)
		return fail(e, NULL, "no detection");
	if (det->kind != YNODE_MAP)
		return fail(e, det, "'detection' must be a map");
	if (det->nkids / 2 > SIGMA_MAX_SELECTIONS + 2)
		return fail(e, det, "too many selections (over %d)", SIGMA_MAX_SELECTIONS);
	rule->sels = xcalloc(det->nkids / 2 + 1, sizeof(*rule->sels));
	for (size_t i = 0; i + 1 < det->nkids; i += 2) {
		const struct ynode *k = det->kids[i];

		if (strcmp(k->text, "condition") == 0) {
			cond = det->kids[i + 1];
			continue;
		}
		if (strcmp(k->text, "timeframe") == 0)
			continue; /* belongs to the deprecated aggregations */
		for (size_t j = 0; j < rule->nsels; j++)
			if (strcmp(rule->sels[j].name, k->text) == 0)
				return fail(e, k, "selection '%s' defined twice", k->text);
		r = parse_selection(k, det->kids[i + 1], &rule->sels[rule->nsels], e);
		if (r < 0)
			return r;
		rule->nsels++;
	}
	if (cond == NULL || ynode_is_null(cond))
		return fail(e, det, "no condition");
	if (cond->kind == YNODE_SCALAR) {
		rule->conditions = xcalloc(1, sizeof(*rule->conditions));
		r = sigma_condition_parse(rule, cond->text, &rule->conditions[0], cerr,
					  sizeof(cerr));
		if (r < 0)
			return fail(e, cond, "%s", cerr);
		rule->nconditions = 1;
		return 0;
	}
	if (cond->kind != YNODE_SEQ || cond->nkids == 0)
		return fail(e, cond, "condition must be text or a list of text");
	rule->conditions = xcalloc(cond->nkids, sizeof(*rule->conditions));
	for (size_t i = 0; i < cond->nkids; i++) {
		if (cond->kids[i]->kind != YNODE_SCALAR)
			return fail(e, cond->kids[i], "condition must be text or a list of text");
		r = sigma_condition_parse(rule, cond->kids[i]->text, &rule->conditions[i], cerr,
					  sizeof(cerr));
		if (r < 0)
			return fail(e, cond->kids[i], "%s", cerr);
		rule->nconditions++;
	}
	return 0;
}

static int
parse_rule(const struct ynode *root, const char *path, size_t docidx, unsigned line,
	   struct sigma_rule **ret, struct perr *e)
{
	struct sigma_rule *rule = xcalloc(1, sizeof(*rule));
	const struct ynode *ls;
	int r;

	rule->path = xstrdup(path);
	rule->line = line;
	if ((r = get_str(root, "title", true, &rule->title, e)) < 0 ||
	    (r = get_str(root, "id", false, &rule->id, e)) < 0 ||
	    (r = get_str(root, "name", false, &rule->name, e)) < 0 ||
	    (r = get_str(root, "description", false, &rule->description, e)) < 0 ||
	    (r = get_str(root, "status", false, &rule->status, e)) < 0 ||
	    (r = get_level(root, &rule->level, e)) < 0 ||
	    (r = get_strv(ynode_get(root, "tags"), "tags", &rule->tags, &rule->ntags, e)) < 0)
		goto out;
	if (rule->id == NULL)
		rule->id = default_id(path, docidx);
	ls = ynode_get(root, "logsource");
	if (ls == NULL || ls->kind != YNODE_MAP) {
		r = fail(e, ls != NULL ? ls : root,
			 "no logsource (a map of product, category, service)");
		goto out;
	}
	{
		static const char *const keys[] = {"product", "category", "service"};
		char **dst[] = {&rule->logsource.product, &rule->logsource.category,
				&rule->logsource.service};

		for (size_t i = 0; i < 3; i++) {
			char *s = NULL;

			r = get_str(ls, keys[i], false, &s, e);
			if (r < 0)
				goto out;
			if (s != NULL) {
				*dst[i] = lowercase_dup(s);
				free(s);
			}
		}
	}
	r = parse_detection(ynode_get(root, "detection"), rule, e);
	if (r < 0)
		goto out;
	*ret = rule;
	rule = NULL;
out:
	rule_free(rule);
	return r;
}

/* --- correlations ---------------------------------------------------------------- */

static int
parse_u64(const struct ynode *n, uint64_t *ret, struct perr *e)
{
	char *end;
	unsigned long long v;

	if (n->kind != YNODE_SCALAR || n->text[0] < '0' || n->text[0] > '9')
		return fail(e, n, "a count must be a whole number");
	errno = 0;
	v = strtoull(n->text, &end, 10);
	if (*end != '\0' || errno != 0)
		return fail(e, n, "a count must be a whole number");
	*ret = v;
	return 0;
}

static int
parse_correlation(const struct ynode *root, const struct ynode *c, const char *path, size_t docidx,
		  unsigned line, struct sigma_correlation **ret, struct perr *e)
{
	static const char *const types[] = {"event_count", "value_count", "temporal"};
	static const char *const cmps[] = {"gt", "gte", "lt", "lte", "eq"};
	struct sigma_correlation *corr = xcalloc(1, sizeof(*corr));
	const struct ynode *n, *cond;
	char *type = NULL, *span = NULL;
	int r;

	corr->path = xstrdup(path);
	corr->line = line;
	if ((r = get_str(root, "title", true, &corr->title, e)) < 0 ||
	    (r = get_str(root, "id", false, &corr->id, e)) < 0 ||
	    (r = get_str(root, "name", false, &corr->name, e)) < 0 ||
	    (r = get_level(root, &corr->level, e)) < 0)
		goto out;
	if (corr->id == NULL)
		corr->id = default_id(path, docidx);
	if (c->kind != YNODE_MAP) {
		r = fail(e, c, "'correlation' must be a map");
		goto out;
	}
	if ((n = ynode_get(c, "aliases")) != NULL) {
		r = fail(e, n, "correlation 'aliases' are not supported");
		goto out;
	}
	if ((r = get_str(c, "type", true, &type, e)) < 0)
		goto out;
	for (size_t i = 0; i < 3; i++)
		if (strcmp(type, types[i]) == 0)
			corr->type = (enum sigma_corr_type)(SIGMA_EVENT_COUNT + i);
	if (corr->type == 0) {
		r = fail(e, ynode_get(c, "type"),
			 "correlation type '%s' is not supported "
			 "(event_count, value_count or temporal)",
			 type);
		goto out;
	}
	n = ynode_get(c, "rules");
	if ((r = get_strv(n, "rules", &corr->rules, &corr->nrules, e)) < 0)
		goto out;
	if (corr->nrules == 0) {
		r = fail(e, n != NULL ? n : c, "correlation names no rules");
		goto out;
	}
	n = ynode_get(c, "group-by");
	if (n == NULL)
		n = ynode_get(c, "group_by");
	if ((r = get_strv(n, "group-by", &corr->group_by, &corr->ngroup_by, e)) < 0)
		goto out;
	if ((r = get_str(c, "timespan", true, &span, e)) < 0)
		goto out;
	if (duration_parse(span, &corr->timespan_ns) < 0 || corr->timespan_ns <= 0) {
		r = fail(e, ynode_get(c, "timespan"),
			 "timespan '%s' is not a duration like 10s, 5m, 1h, 1d", span);
		goto out;
	}
	n = ynode_get(c, "generate");
	if (n == NULL)
		n = ynode_get(root, "generate");
	if (n != NULL && n->kind == YNODE_SCALAR && !n->quoted && strcasecmp(n->text, "true") == 0)
		corr->generate = true;
	else if (n != NULL &&
		 !(n->kind == YNODE_SCALAR && !n->quoted && strcasecmp(n->text, "false") == 0)) {
		r = fail(e, n, "'generate' must be true or false");
		goto out;
	}
	cond = ynode_get(c, "condition");
	if (corr->type == SIGMA_TEMPORAL) {
		if (corr->nrules < 2) {
			r = fail(e, c, "a temporal correlation needs at least two rules");
			goto out;
		}
		r = 0;
		goto done;
	}
	if (cond == NULL || cond->kind != YNODE_MAP) {
		r = fail(e, cond != NULL ? cond : c,
			 "no correlation condition (a map such as gte: 10)");
		goto out;
	}
	for (size_t i = 0; i + 1 < cond->nkids; i += 2) {
		const char *k = cond->kids[i]->text;
		bool known = false;

		if (strcmp(k, "field") == 0) {
			if (cond->kids[i + 1]->kind != YNODE_SCALAR) {
				r = fail(e, cond->kids[i + 1], "'field' must be text");
				goto out;
			}
			free(corr->value_field);
			corr->value_field = xstrdup(cond->kids[i + 1]->text);
			continue;
		}
		for (size_t j = 0; j < 5; j++)
			if (strcmp(k, cmps[j]) == 0) {
				if (corr->cmp != 0) {
					r = fail(
						e, cond->kids[i],
						"only one comparison per correlation is supported");
					goto out;
				}
				corr->cmp = (enum sigma_cmp)(SIGMA_GT + j);
				r = parse_u64(cond->kids[i + 1], &corr->count, e);
				if (r < 0)
					goto out;
				known = true;
			}
		if (!known) {
			r = fail(e, cond->kids[i],
				 "unknown correlation condition '%s' (gt, gte, lt, lte, eq, field)",
				 k);
			goto out;
		}
	}
	if (corr->cmp == 0) {
		r = fail(e, cond,
			 "correlation condition has no comparison (gt, gte, lt, lte or eq)");
		goto out;
	}
	if (corr->type == SIGMA_VALUE_COUNT && corr->value_field == NULL) {
		r = fail(e, cond, "a value_count correlation needs 'field' in its condition");
		goto out;
	}
done:
	*ret = corr;
	corr = NULL;
out:
	free(type);
	free(span);
	corr_free(corr);
	return r;
}

/* --- files and directories ------------------------------------------------------- */

static void
load_doc(struct sigma_ruleset *rs, const char *path, size_t docidx, const struct ydoc *doc)
{
	struct perr e = {.line = doc->line};
	const struct ynode *root = doc->root, *c;
	struct sigma_rule *rule = NULL;
	struct sigma_correlation *corr = NULL;
	int r;

	if (doc->error != NULL) {
		add_error(rs, path, doc->error_line, "%s", doc->error);
		return;
	}
	if (root == NULL || ynode_is_null(root))
		return; /* an empty document, as after a trailing "---" */
	if (root->kind != YNODE_MAP) {
		add_error(rs, path, root->line, "a rule must be a map");
		return;
	}
	r = check_text(root, &e);
	if (r == 0 && root->nkids / 2 > 256)
		r = fail(&e, root, "too many top-level keys (over 256)");
	for (size_t i = 0; r == 0 && i < root->nkids; i += 2)
		for (size_t j = 0; r == 0 && j < i; j += 2)
			if (strcmp(root->kids[i]->text, root->kids[j]->text) == 0)
				r = fail(&e, root->kids[i], "key '%s' given twice",
					 root->kids[i]->text);
	if (r == 0 && ynode_get(root, "action") != NULL)
		r = fail(&e, ynode_get(root, "action"),
			 "'action' (global/reset/repeat rule collections) "
			 "is not supported");
	if (r == 0 && (c = ynode_get(root, "correlation")) != NULL) {
		r = parse_correlation(root, c, path, docidx, doc->line, &corr, &e);
		if (r == 0) {
			rs->corrs = xgrow(rs->corrs, &rs->corrs_cap, rs->ncorrs + 1,
					  sizeof(*rs->corrs));
			rs->corrs[rs->ncorrs++] = corr;
		}
	} else if (r == 0) {
		r = parse_rule(root, path, docidx, doc->line, &rule, &e);
		if (r == 0) {
			rs->rules = xgrow(rs->rules, &rs->rules_cap, rs->nrules + 1,
					  sizeof(*rs->rules));
			rs->rules[rs->nrules++] = rule;
		}
	}
	if (r < 0)
		add_error(rs, path, e.line, "%s", e.msg[0] ? e.msg : "rule cannot be used");
}

int
sigma_load_text(struct sigma_ruleset *rs, const char *path, const char *text, size_t len)
{
	struct ystream ys = {0};
	size_t nonempty = 0;

	if (len > SIGMA_MAX_FILE_SIZE) {
		add_error(rs, path, 0, "file too large (over 16 MiB)");
		return 0;
	}
	ystream_parse(&ys, text, len);
	for (size_t i = 0; i < ys.ndocs; i++) {
		if (ys.docs[i].error != NULL || !ynode_is_null(ys.docs[i].root))
			nonempty++;
		load_doc(rs, path, i, &ys.docs[i]);
	}
	if (ys.error != NULL)
		add_error(rs, path, ys.error_line, "%s", ys.error);
	else if (nonempty == 0)
		add_error(rs, path, 0, "no rule in this file (it is empty)");
	ystream_release(&ys);
	return 0;
}

struct walk {
	struct sigma_ruleset *rs;
	size_t nfiles;
	bool full;
};

static bool
is_rule_file(const char *name)
{
	size_t n = strlen(name);

	return (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
	       (n > 5 && strcmp(name + n - 5, ".yaml") == 0);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
load_file_at(struct walk *w, int dfd, const char *name, const char *path)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int fd, r;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		add_error(w->rs, path, 0, "cannot open: %s", strerror(errno));
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		add_error(w->rs, path, 0, "not a regular file");
		goto out;
	}
	if (st.st_size > (off_t)SIGMA_MAX_FILE_SIZE) {
		add_error(w->rs, path, 0, "file too large (over 16 MiB)");
		goto out;
	}
	r = fd_read_all(fd, SIGMA_MAX_FILE_SIZE, &text, &len);
	if (r < 0) {
		add_error(w->rs, path, 0, "cannot read: %s",
			  r == -EFBIG ? "file too large (over 16 MiB)" : strerror(-r));
		goto out;
	}
	sigma_load_text(w->rs, path, text, len);
out:
	free(text);
	close(fd);
}

/* dfd is owned (closed here). */
static int
walk_dir(struct walk *w, int dfd, const char *path, unsigned depth)
{
	char **names = NULL;
	size_t nnames = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	d = fdopendir(dfd);
	if (d == NULL) {
		int r = -errno;

		close(dfd);
		return r;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		names = xgrow(names, &cap, nnames + 1, sizeof(*names));
		names[nnames++] = xstrdup(de->d_name);
	}
	qsort(names, nnames, sizeof(*names), cmp_names); /* the same order on every machine */
	for (size_t i = 0; i < nnames; i++) {
		char *sub = xasprintf("%s/%s", path, names[i]);
		struct stat st;

		if (w->full) {
			free(sub);
			continue;
		}
		if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			add_error(w->rs, sub, 0, "cannot read: %s", strerror(errno));
		} else if (S_ISLNK(st.st_mode)) {
			add_error(w->rs, sub, 0, "symbolic link skipped (links are not followed)");
		} else if (S_ISDIR(st.st_mode)) {
			int sfd;

			if (depth >= SIGMA_MAX_DIR_DEPTH) {
				add_error(w->rs, sub, 0, "directories nested too deeply; skipped");
			} else if ((sfd = openat(dirfd(d), names[i],
						 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) <
				   0) {
				add_error(w->rs, sub, 0, "cannot open directory: %s",
					  strerror(errno));
			} else {
				int r = walk_dir(w, sfd, sub, depth + 1);

				if (r < 0)
					add_error(w->rs, sub, 0, "cannot read directory: %s",
						  strerror(-r));
			}
		} else if (S_ISREG(st.st_mode) && is_rule_file(names[i])) {
			if (w->nfiles >= SIGMA_MAX_FILES) {
				add_error(w->rs, path, 0,
					  "more than %d rule files; the rest are skipped",
					  SIGMA_MAX_FILES);
				w->full = true;
			} else {
				w->nfiles++;
				load_file_at(w, dirfd(d), names[i], sub);
			}
		}
		free(sub);
	}
	strv_free(names, nnames);
	closedir(d);
	return 0;
}

int
sigma_load_dir(struct sigma_ruleset *rs, const char *dir)
{
	struct walk w = {.rs = rs};
	size_t n = strlen(dir);
	char *path;
	int fd, r;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (n > 1 && dir[n - 1] == '/')
		n--;
	path = xstrndup(dir, n);
	r = walk_dir(&w, fd, path, 0);
	free(path);
	return r;
}
