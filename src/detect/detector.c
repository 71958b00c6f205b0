/*
 * detector.c - Sigma rules compiled into Hyperscan databases per field, run
 * over records (see detector.h).
 *
 * Build: every string value of every rule becomes one Hyperscan expression
 * (a "pattern", numbered by a global id) in the database of its field; the
 * raw line has its own database for keywords. |re values Hyperscan refuses go
 * to PCRE2; cidr, exists and null are checked in code. Per rule we keep the
 * compiled selections and two facts: which fields, when present, make it
 * worth evaluating without any Hyperscan match (PCRE2, cidr, exists, null
 * tests), and whether its condition holds on an empty record ("always": e.g.
 * "not sel") - such rules are evaluated for every record.
 *
 * Field names are compared case-insensitively (ASCII): Sigma's field names
 * are written inconsistently across rule sets (CommandLine, commandline) and
 * no two of our decoders' fields differ by case only. A record field seen
 * twice counts once (the first one, as record_get).
 *
 * Per record: scan each present field that has a database once, setting a
 * bit per matched pattern; collect the rules owning those patterns, the rules
 * triggered by present fields and the "always" rules; evaluate only those.
 * Nothing is allocated per record (the suppression and correlation maps
 * allocate when a new group appears).
 */
#include "detect/detector.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/xalloc.h"
#include "detect/correlation.h"
#include "detect/hs_db.h"
#include "detect/detector_internal.h"
#include "detect/pcre_re.h"
#include "core/banned.h"

/* ---- field table ---- */

/* ASCII case folding, without the locale (field names are ASCII). */
static inline unsigned char
fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

static uint32_t
name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= fold((unsigned char)*s);
		h *= 16777619u;
	}
	return h;
}

static bool
name_eq(const char *a, const char *b)
{
	for (; *a != '\0'; a++, b++)
		if (fold((unsigned char)*a) != fold((unsigned char)*b))
			return false;
	return *b == '\0';
}

static int
field_find(const struct detector *d, const char *name)
{
	size_t mask = d->ftab_size - 1;

	if (d->ftab_size == 0)
		return -1;
	for (size_t i = name_hash(name) & mask;; i = (i + 1) & mask) {
		uint32_t v = d->ftab[i];

		if (v == 0)
			return -1;
		if (name_eq(d->fields[v - 1].name, name))
			return (int)(v - 1);
	}
}

static void
ftab_insert(struct detector *d, uint32_t idx)
{
	size_t mask = d->ftab_size - 1;
	size_t i = name_hash(d->fields[idx].name) & mask;

	while (d->ftab[i] != 0)
		i = (i + 1) & mask;
	d->ftab[i] = idx + 1;
}

static int
field_get(struct detector *d, const char *name)
{
	int i = field_find(d, name);

	if (i >= 0)
		return i;
	if ((d->nfields + 1) * 2 > d->ftab_size) {
		free(d->ftab);
		d->ftab_size = d->ftab_size ? d->ftab_size * 2 : 64;
		d->ftab = xcalloc(d->ftab_size, sizeof(*d->ftab));
		for (size_t j = 0; j < d->nfields; j++)
			ftab_insert(d, (uint32_t)j);
	}
	d->fields = xgrow(d->fields, &d->fields_cap, d->nfields + 1, sizeof(*d->fields));
	memset(&d->fields[d->nfields], 0, sizeof(d->fields[0]));
	d->fields[d->nfields].name = xstrdup(name);
	ftab_insert(d, (uint32_t)d->nfields);
	return (int)d->nfields++;
}

static bool
str_eq_nocase(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcasecmp(a, b) == 0;
}

/* The database a test of rule ri on field goes into. */
static struct cfield *
cfield_of(struct detector *d, uint32_t ri, int field)
{
	const struct sigma_logsource *ls = &d->rules[ri].src->logsource;

	if (field != FIELD_RAW)
		return &d->fields[field];
	for (size_t i = 0; i < d->nkw; i++)
		if (str_eq_nocase(d->kw[i].ls->product, ls->product) &&
				str_eq_nocase(d->kw[i].ls->category, ls->category) &&
				str_eq_nocase(d->kw[i].ls->service, ls->service))
			return &d->kw[i].f;
	d->kw = xgrow(d->kw, &d->kw_cap, d->nkw + 1, sizeof(*d->kw));
	memset(&d->kw[d->nkw], 0, sizeof(d->kw[0]));
	d->kw[d->nkw].ls = ls;
	return &d->kw[d->nkw++].f;
}

static void
cfield_release(struct cfield *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->exprs[i]);
	free(f->exprs);
	free(f->flags);
	free(f->ids);
	hsdb_free(f->db);
	free(f->triggers);
	free(f->name);
}

static void
add_trigger(struct cfield *f, uint32_t rule)
{
	if (f->ntriggers > 0 && f->triggers[f->ntriggers - 1] == rule)
		return;
	f->triggers = xgrow(f->triggers, &f->triggers_cap, f->ntriggers + 1, sizeof(*f->triggers));
	f->triggers[f->ntriggers++] = rule;
}

/* ---- building ---- */

static void
rule_error(struct detector *d, uint32_t ri, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
rule_error(struct detector *d, uint32_t ri, const char *fmt, ...)
{
	const struct sigma_rule *r = d->rules[ri].src;
	va_list ap;

	if (d->rules[ri].dropped)
		return;
	d->rules[ri].dropped = true;
	if (d->errors == NULL)
		return;
	(void)buf_appendf(d->errors, "%s: %s: ", r->path ? r->path : "-", r->id ? r->id : "-");
	va_start(ap, fmt);
	(void)buf_vappendf(d->errors, fmt, ap);
	va_end(ap);
	(void)buf_putc(d->errors, '\n');
}

/* Append the regex for a Sigma string (wildcards and escapes as in the
 * specification) with the anchors op implies. */
static void
sigma_to_regex(const struct sigma_value *v, enum sigma_op op, struct buf *out)
{
	/* Tokens: 0..255 a literal byte, 256 '*', 257 '?'. */
	enum { STAR = 256, QMARK = 257 };
	int *tok = xmalloc((v->len + 1) * sizeof(*tok));
	size_t n = 0, lo = 0, hi;
	bool start = op == SIGMA_EQUALS || op == SIGMA_STARTSWITH;
	bool end = op == SIGMA_EQUALS || op == SIGMA_ENDSWITH;

	for (size_t i = 0; i < v->len; i++) {
		unsigned char c = (unsigned char)v->text[i];

		if (c == '\\' && i + 1 < v->len &&
				(v->text[i + 1] == '*' || v->text[i + 1] == '?' || v->text[i + 1] == '\\'))
			tok[n++] = (unsigned char)v->text[++i];
		else if (c == '*')
			tok[n++] = STAR;
		else if (c == '?')
			tok[n++] = QMARK;
		else
			tok[n++] = c;
	}
	/* A leading or trailing '*' is the same as no anchor on that side. */
	hi = n;
	while (lo < hi && tok[lo] == STAR) {
		lo++;
		start = false;
	}
	while (hi > lo && tok[hi - 1] == STAR) {
		hi--;
		end = false;
	}
	if (start)
		(void)buf_putc(out, '^');
	for (size_t i = lo; i < hi; i++) {
		if (tok[i] == STAR)
			(void)buf_puts(out, ".*");
		else if (tok[i] == QMARK)
			(void)buf_putc(out, '.');
		else if (isalnum(tok[i]))
			(void)buf_putc(out, (char)tok[i]);
		else
			(void)buf_appendf(out, "\\x%02x", (unsigned)tok[i]);
	}
	if (end)
		(void)buf_puts(out, "\\z");
	if (out->len == 0)
		(void)buf_putc(out, '^');	/* matches anything, even empty */
	free(tok);
}

static void
add_pattern(struct detector *d, uint32_t ri, int field, struct cval *cv, char *expr,
		unsigned flags)
{
	struct cfield *f = cfield_of(d, ri, field);

	d->pats = xgrow(d->pats, &d->pats_cap, d->npats + 1, sizeof(*d->pats));
	d->pats[d->npats] = (struct pat){ .rule = ri, .cv = cv, .field = field };
	cv->kind = CV_HS;
	cv->id = (unsigned)d->npats++;
	if (f->n == f->cap) {
		size_t cap = f->cap;

		f->exprs = xgrow(f->exprs, &cap, f->n + 1, sizeof(*f->exprs));
		f->flags = xrealloc(f->flags, cap * sizeof(*f->flags));
		f->ids = xrealloc(f->ids, cap * sizeof(*f->ids));
		f->cap = cap;
	}
	f->exprs[f->n] = expr;
	f->flags[f->n] = flags;
	f->ids[f->n] = cv->id;
	f->n++;
}

static unsigned
re_hs_flags(unsigned re)
{
	return ((re & SIGMA_RE_I) ? HSDB_CASELESS : 0) | ((re & SIGMA_RE_M) ? HSDB_MULTILINE : 0) |
		((re & SIGMA_RE_S) ? HSDB_DOTALL : 0);
}

/* Hand an |re value to PCRE2 (Hyperscan said why not). */
static int
use_pcre(struct detector *d, uint32_t ri, struct cval *cv, const char *hs_reason)
{
	const struct sigma_value *v = cv->src;
	const struct sigma_rule *r = d->rules[ri].src;
	unsigned fl = ((v->re_flags & SIGMA_RE_I) ? PCRE_RE_I : 0) |
		((v->re_flags & SIGMA_RE_M) ? PCRE_RE_M : 0) |
		((v->re_flags & SIGMA_RE_S) ? PCRE_RE_S : 0);
	char *err = NULL;

	if (pcre_re_compile(v->text, v->len, fl, &cv->re, &err) < 0) {
		rule_error(d, ri, "regular expression '%s' refused by Hyperscan (%s) and PCRE2 (%s)",
			v->text, hs_reason, err ? err : "?");
		free(err);
		return -EINVAL;
	}
	cv->kind = CV_PCRE;
	d->pcre_patterns++;
	(void)buf_appendf(&d->report, "%s: %s: regular expression '%s' runs on PCRE2 (Hyperscan: %s)\n",
		r->path ? r->path : "-", r->id ? r->id : "-", v->text, hs_reason);
	return 0;
}

static int
parse_cidr(const char *text, struct cval *cv)
{
	char addr[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned long prefix;
	char *end;

	if (alen == 0 || alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, cv->net) == 1)
		cv->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, cv->net) == 1)
		cv->family = AF_INET6;
	else
		return -EINVAL;
	cv->prefix = cv->family == AF_INET ? 32 : 128;
	if (slash != NULL) {
		if (!isdigit((unsigned char)slash[1]))
			return -EINVAL;
		errno = 0;
		prefix = strtoul(slash + 1, &end, 10);
		if (errno != 0 || *end != '\0' || prefix > cv->prefix)
			return -EINVAL;
		cv->prefix = (unsigned)prefix;
	}
	return 0;
}

static int
compile_value(struct detector *d, uint32_t ri, int field, struct cval *cv)
{
	const struct sigma_value *v = cv->src;
	struct buf b;
	enum sigma_op op = v->op;
	char *why = NULL;

	switch (op) {
	case SIGMA_EQUALS:
	case SIGMA_CONTAINS:
	case SIGMA_STARTSWITH:
	case SIGMA_ENDSWITH:
		if (v->text == NULL) {
			rule_error(d, ri, "a value has no text");
			return -EINVAL;
		}
		if (field == FIELD_RAW && op == SIGMA_EQUALS)
			op = SIGMA_CONTAINS;	/* keywords are searched for */
		buf_init(&b, 0);
		sigma_to_regex(v, op, &b);
		add_pattern(d, ri, field, cv, buf_detach(&b, NULL),
			HSDB_DOTALL | (v->cased ? 0 : HSDB_CASELESS));
		return 0;
	case SIGMA_RE:
		if (v->text == NULL || strlen(v->text) != v->len) {
			rule_error(d, ri, "a regular expression is empty or holds a NUL");
			return -EINVAL;
		}
		if (hsdb_check(v->text, re_hs_flags(v->re_flags), &why) < 0) {
			int r = use_pcre(d, ri, cv, why);

			free(why);
			return r;
		}
		add_pattern(d, ri, field, cv, xstrdup(v->text), re_hs_flags(v->re_flags));
		return 0;
	case SIGMA_CIDR:
		cv->kind = CV_CIDR;
		if (v->text == NULL || parse_cidr(v->text, cv) < 0) {
			rule_error(d, ri, "'%s' is not a network (address/prefix)",
				v->text ? v->text : "");
			return -EINVAL;
		}
		return 0;
	case SIGMA_EXISTS:
		cv->kind = CV_EXISTS;
		cv->exists = v->exists;
		return 0;
	case SIGMA_NULL:
		cv->kind = CV_NULL;
		return 0;
	}
	rule_error(d, ri, "unknown value operation %d", (int)v->op);
	return -EINVAL;
}

static bool
cond_valid(const struct sigma_rule *r)
{
	if (r->nconditions == 0)
		return false;
	for (size_t i = 0; i < r->nconditions; i++)
		if (r->conditions[i] >= r->ncond_nodes)
			return false;
	for (size_t i = 0; i < r->ncond_nodes; i++) {
		const struct sigma_cond *c = &r->cond_nodes[i];

		switch (c->kind) {
		case SIGMA_COND_SEL:
			if (c->sel >= r->nsels)
				return false;
			break;
		case SIGMA_COND_NOT:
			if (c->a >= r->ncond_nodes)
				return false;
			break;
		case SIGMA_COND_AND:
		case SIGMA_COND_OR:
			if (c->a >= r->ncond_nodes || c->b >= r->ncond_nodes)
				return false;
			break;
		case SIGMA_COND_OF:
			for (size_t j = 0; j < c->nsels; j++)
				if (c->sels[j] >= r->nsels)
					return false;
			break;
		default:
			return false;
		}
	}
	return true;
}

static void
compile_rule(struct detector *d, uint32_t ri)
{
	struct crule *cr = &d->rules[ri];
	const struct sigma_rule *r = cr->src;

	if (!cond_valid(r)) {
		rule_error(d, ri, "the condition refers to nothing or is missing");
		return;
	}
	cr->sels = xcalloc(r->nsels ? r->nsels : 1, sizeof(*cr->sels));
	if (r->nsels > d->max_sels)
		d->max_sels = r->nsels;
	for (size_t s = 0; s < r->nsels; s++) {
		const struct sigma_selection *ss = &r->sels[s];
		struct csel *cs = &cr->sels[s];

		cs->nmaps = ss->nmaps;
		cs->maps = xcalloc(ss->nmaps ? ss->nmaps : 1, sizeof(*cs->maps));
		for (size_t m = 0; m < ss->nmaps; m++) {
			const struct sigma_map *sm = &ss->maps[m];
			struct cmap *cm = &cs->maps[m];

			cm->ntests = sm->ntests;
			cm->tests = xcalloc(sm->ntests ? sm->ntests : 1, sizeof(*cm->tests));
			for (size_t t = 0; t < sm->ntests; t++) {
				const struct sigma_field_test *st = &sm->tests[t];
				struct ctest *ct = &cm->tests[t];

				ct->src = st;
				ct->all = st->all;
				ct->field = st->field ? field_get(d, st->field) : FIELD_RAW;
				ct->nvals = st->nvalues;
				ct->vals = xcalloc(st->nvalues ? st->nvalues : 1, sizeof(*ct->vals));
				for (size_t v = 0; v < st->nvalues; v++) {
					ct->vals[v].src = &st->values[v];
					if (compile_value(d, ri, ct->field, &ct->vals[v]) < 0)
						return;
				}
			}
		}
	}
}

static void
on_refuse(unsigned id, const char *message, void *data)
{
	struct detector *d = data;
	struct pat *p = &d->pats[id];

	if (p->cv->src->op == SIGMA_RE)
		(void)use_pcre(d, p->rule, p->cv, message);
	else
		rule_error(d, p->rule, "pattern '%s' refused by Hyperscan: %s",
			p->cv->src->text ? p->cv->src->text : "", message);
}

static int
compile_field_db(struct detector *d, struct cfield *f)
{
	const char **e = xmalloc((f->n ? f->n : 1) * sizeof(*e));
	unsigned *fl = xmalloc((f->n ? f->n : 1) * sizeof(*fl));
	unsigned *ids = xmalloc((f->n ? f->n : 1) * sizeof(*ids));
	size_t m = 0;
	int r;

	for (size_t i = 0; i < f->n; i++) {
		if (d->rules[d->pats[f->ids[i]].rule].dropped)
			continue;
		e[m] = f->exprs[i];
		fl[m] = f->flags[i];
		ids[m] = f->ids[i];
		m++;
	}
	bool cached = false;

	r = hsdb_compile(e, fl, ids, m, on_refuse, d, d->cache_dirfd, &f->db, &cached);
	d->hs_dbs++;
	d->hs_dbs_cached += cached;
	if (r < 0) {
		/* Hyperscan failed without naming an expression (a resource
		 * limit): the rules that use this field cannot run. */
		for (size_t i = 0; i < m; i++)
			rule_error(d, d->pats[ids[i]].rule,
				"Hyperscan could not compile the database of field '%s'",
				f->name ? f->name : "(keywords)");
		f->db = NULL;
	} else {
		for (size_t i = 0; i < m; i++)
			if (d->pats[ids[i]].cv->kind == CV_HS && !d->rules[d->pats[ids[i]].rule].dropped)
				d->hs_patterns++;
	}
	free(e);
	free(fl);
	free(ids);
	if (r == 0 && f->db != NULL)
		r = hsdb_scratch_grow(&d->scratch, f->db);
	return r == -EINVAL ? 0 : r;
}

static const char *
corr_name(const struct sigma_correlation *c)
{
	return c->id ? c->id : c->name ? c->name : "-";
}

static void
corr_error(struct detector *d, const struct sigma_correlation *c, const char *why,
		const char *rule)
{
	if (d->errors == NULL)
		return;
	(void)buf_appendf(d->errors, "%s: %s: ", c->path ? c->path : "-", corr_name(c));
	if (rule != NULL)
		(void)buf_appendf(d->errors, "references rule '%s', which %s", rule, why);
	else
		(void)buf_puts(d->errors, why);
	(void)buf_putc(d->errors, '\n');
}

static void
link_correlations(struct detector *d)
{
	const struct sigma_ruleset *rs = d->rs;

	d->ncorrs = rs->ncorrs;
	d->corrs = xcalloc(rs->ncorrs ? rs->ncorrs : 1, sizeof(*d->corrs));
	for (size_t ci = 0; ci < rs->ncorrs; ci++) {
		const struct sigma_correlation *c = rs->corrs[ci];
		const char *why = NULL;
		bool ok = true;

		if (corr_check(c, &why) < 0) {
			corr_error(d, c, why, NULL);
			continue;
		}
		for (size_t k = 0; k < c->nrules && ok; k++) {
			bool found = false;

			for (size_t ri = 0; ri < d->nrules; ri++) {
				const struct sigma_rule *r = d->rules[ri].src;

				if ((r->id && strcmp(r->id, c->rules[k]) == 0) ||
						(r->name && strcmp(r->name, c->rules[k]) == 0)) {
					found = true;
					if (d->rules[ri].dropped)
						ok = false;
				}
			}
			if (!found || !ok) {
				corr_error(d, c, found ? "cannot run" : "is not loaded", c->rules[k]);
				ok = false;
			}
		}
		if (!ok)
			continue;
		d->corrs[ci] = c;
		d->ncorrs_used++;
		for (size_t k = 0; k < c->nrules; k++)
			for (size_t ri = 0; ri < d->nrules; ri++) {
				struct crule *cr = &d->rules[ri];
				const struct sigma_rule *r = cr->src;

				if (!(r->id && strcmp(r->id, c->rules[k]) == 0) &&
						!(r->name && strcmp(r->name, c->rules[k]) == 0))
					continue;
				cr->corrs = xgrow(cr->corrs, &cr->corrs_cap, cr->ncorrs + 1,
					sizeof(*cr->corrs));
				cr->corrs[cr->ncorrs++] = (struct corr_ref){ (uint32_t)ci, k };
				if (!c->generate)
					cr->quiet = true;
			}
	}
}

static bool rule_holds(struct detector *d, struct crule *cr);
static bool cond_holds(const struct detector *d, const struct sigma_rule *r, unsigned node,
		unsigned depth);

static bool
test_is_hs(const struct ctest *ct)
{
	if (ct->nvals == 0)
		return false;
	for (size_t v = 0; v < ct->nvals; v++)
		if (ct->vals[v].kind != CV_HS)
			return false;
	return true;
}

/* How rare a hit of this (Hyperscan-only) test is likely to be: the
 * strength of the literal text a line needs for it (line_filter.c), so the
 * triggers and the line filter pick the same tests. "cs-method: GET" scores
 * low, "contains: union select" high. */
static size_t
test_rarity(struct detector *d, const struct ctest *ct)
{
	return line_filter_test_strength(d, ct);
}

/* The test of a map whose hits alone make the map worth evaluating: of the
 * tests with Hyperscan values only (the map cannot hold unless each does),
 * the rarest; NULL when the map has none. */
static const struct ctest *
map_key_test(struct detector *d, const struct cmap *cm, size_t *ret_rarity)
{
	const struct ctest *best = NULL;
	size_t best_rarity = 0;

	for (size_t t = 0; t < cm->ntests; t++) {
		size_t r;

		if (!test_is_hs(&cm->tests[t]))
			continue;
		r = test_rarity(d, &cm->tests[t]);
		if (best == NULL || r > best_rarity) {
			best = &cm->tests[t];
			best_rarity = r;
		}
	}
	*ret_rarity = best != NULL ? best_rarity : 0;
	return best;
}

static size_t
sel_rarity(struct detector *d, const struct csel *cs)
{
	size_t min = SIZE_MAX, r;

	for (size_t m = 0; m < cs->nmaps; m++) {
		(void)map_key_test(d, &cs->maps[m], &r);
		if (r < min)
			min = r;
	}
	return cs->nmaps > 0 ? min : 0;
}

/* Selections of which one at least must change from its value on an empty
 * record for the condition node (false there) to become true; false when
 * that cannot be said simply (then every selection counts). empty[] holds
 * the selections' values on an empty record; d->selres likewise. */
static bool
needed_sels(struct detector *d, const struct crule *cr, unsigned node, const bool *empty,
		bool *set, size_t *ret_rarity, unsigned depth)
{
	const struct sigma_rule *r = cr->src;
	const struct sigma_cond *c = &r->cond_nodes[node];
	size_t ns = r->nsels ? r->nsels : 1;
	bool ok = false;

	if (depth > COND_MAX_DEPTH || cond_holds(d, r, node, 0))
		return false;
	switch (c->kind) {
	case SIGMA_COND_SEL:
		set[c->sel] = true;
		*ret_rarity = sel_rarity(d, &cr->sels[c->sel]);
		return true;
	case SIGMA_COND_AND:
	case SIGMA_COND_OR: {
		bool *sa = xcalloc(ns, sizeof(*sa)), *sb = xcalloc(ns, sizeof(*sb));
		size_t ra = 0, rb = 0;
		bool oka = !cond_holds(d, r, c->a, 0) &&
			needed_sels(d, cr, c->a, empty, sa, &ra, depth + 1);
		bool okb = !cond_holds(d, r, c->b, 0) &&
			needed_sels(d, cr, c->b, empty, sb, &rb, depth + 1);
		const bool *pick = NULL;

		if (c->kind == SIGMA_COND_AND) {
			/* Both must hold: watching either one is enough. */
			if (oka && (!okb || ra >= rb)) {
				pick = sa;
				*ret_rarity = ra;
			} else if (okb) {
				pick = sb;
				*ret_rarity = rb;
			}
			if (pick != NULL)
				for (size_t i = 0; i < r->nsels; i++)
					set[i] |= pick[i];
			ok = pick != NULL;
		} else if (oka && okb) {
			for (size_t i = 0; i < r->nsels; i++)
				set[i] |= sa[i] || sb[i];
			*ret_rarity = ra < rb ? ra : rb;
			ok = true;
		}
		free(sa);
		free(sb);
		return ok;
	}
	case SIGMA_COND_OF:
		if (c->count == 0) {
			size_t best = SIZE_MAX;

			for (size_t i = 0; i < c->nsels; i++)
				if (!empty[c->sels[i]] && (best == SIZE_MAX ||
						sel_rarity(d, &cr->sels[c->sels[i]]) >
						sel_rarity(d, &cr->sels[c->sels[best]])))
					best = i;
			if (best == SIZE_MAX)
				return false;
			set[c->sels[best]] = true;
			*ret_rarity = sel_rarity(d, &cr->sels[c->sels[best]]);
			return true;
		}
		*ret_rarity = SIZE_MAX;
		for (size_t i = 0; i < c->nsels; i++) {
			size_t rr = sel_rarity(d, &cr->sels[c->sels[i]]);

			set[c->sels[i]] = true;
			if (rr < *ret_rarity)
				*ret_rarity = rr;
		}
		return c->nsels > 0;
	case SIGMA_COND_NOT:
		break;
	}
	return false;
}

/* Which patterns make a rule a candidate. A map cannot hold unless its key
 * test does, so only the key test's patterns trigger (all of a map's
 * patterns when it has no key test); and only the selections the condition
 * needs to change (needed_sels) trigger. A record with no triggering hit (no
 * triggering field, the rule not "always") leaves those selections as on an
 * empty record, so the rule is false there too. */
static void
mark_triggers(struct detector *d, struct crule *cr)
{
	const struct sigma_rule *r = cr->src;
	size_t ns = r->nsels ? r->nsels : 1, rarity;
	bool *empty = xcalloc(ns, sizeof(*empty)), *need = xcalloc(ns, sizeof(*need));
	bool ok = true;

	d->rec = NULL;
	(void)rule_holds(d, cr);	/* selres: the values on an empty record */
	memcpy(empty, d->selres, r->nsels * sizeof(*empty));
	for (size_t i = 0; i < r->nconditions && ok; i++)
		ok = needed_sels(d, cr, r->conditions[i], empty, need, &rarity, 0);
	cr->filterable = ok && r->nconditions > 0;
	for (size_t s = 0; s < r->nsels; s++) {
		if (ok && !need[s])
			continue;
		for (size_t m = 0; m < cr->sels[s].nmaps; m++) {
			const struct cmap *cm = &cr->sels[s].maps[m];
			const struct ctest *key = map_key_test(d, cm, &rarity);

			if (key == NULL)
				cr->filterable = false;

			for (size_t t = 0; t < cm->ntests; t++) {
				const struct ctest *ct = &cm->tests[t];

				if (key != NULL && ct != key)
					continue;
				for (size_t v = 0; v < ct->nvals; v++)
					if (ct->vals[v].kind == CV_HS)
						d->pats[ct->vals[v].id].trigger = true;
			}
		}
	}
	free(empty);
	if (cr->filterable)
		cr->need = need;
	else
		free(need);
}

/* Which rules run without a Hyperscan match: triggered by a present field,
 * or always (their condition holds on an empty record). */
static void
plan_rules(struct detector *d)
{
	d->always = xcalloc(d->nrules ? d->nrules : 1, sizeof(*d->always));
	for (size_t ri = 0; ri < d->nrules; ri++) {
		struct crule *cr = &d->rules[ri];
		const struct sigma_rule *r = cr->src;
		bool always = false;

		if (cr->dropped)
			continue;
		d->nrules_used++;
		mark_triggers(d, cr);
		for (size_t s = 0; s < r->nsels; s++)
			for (size_t m = 0; m < cr->sels[s].nmaps; m++)
				for (size_t t = 0; t < cr->sels[s].maps[m].ntests; t++) {
					struct ctest *ct = &cr->sels[s].maps[m].tests[t];

					for (size_t v = 0; v < ct->nvals; v++) {
						if (ct->vals[v].kind == CV_HS)
							continue;
						if (ct->field == FIELD_RAW)
							always = true;
						else
							add_trigger(&d->fields[ct->field], (uint32_t)ri);
					}
				}
		d->rec = NULL;
		if (always || rule_holds(d, cr))
			d->always[d->nalways++] = (uint32_t)ri;
	}
}

int
detector_build(const struct sigma_ruleset *rs, const struct detector_opts *o,
		struct detector **ret, struct buf *errors)
{
	struct detector *d = xcalloc(1, sizeof(*d));
	size_t nwords;
	int r;

	d->rs = rs;
	if (o != NULL)
		d->opts = *o;
	d->errors = errors;
	buf_init(&d->report, 0);
	d->cache_dirfd = -1;
	if (d->opts.cache_dir != NULL) {
		d->cache_dirfd = hsdb_cache_open(d->opts.cache_dir);
		if (d->cache_dirfd < 0) {
			(void)buf_appendf(&d->report, "%s: compiled rules are not kept (%s)\n",
				d->opts.cache_dir, d->cache_dirfd == -EPERM ?
				"the directory is not the user's own, or others may write to it" :
				strerror(-d->cache_dirfd));
			d->cache_dirfd = -1;
		}
	}
	buf_init(&d->matched, MATCHED_MAX);
	buf_init(&d->group, GROUP_MAX);
	d->nrules = rs->nrules;
	d->rules = xcalloc(rs->nrules ? rs->nrules : 1, sizeof(*d->rules));
	for (size_t ri = 0; ri < rs->nrules; ri++) {
		d->rules[ri].src = rs->rules[ri];
		compile_rule(d, (uint32_t)ri);
	}
	for (size_t i = 0; i < d->nfields; i++) {
		r = compile_field_db(d, &d->fields[i]);
		if (r < 0)
			goto out;
	}
	for (size_t i = 0; i < d->nkw; i++) {
		r = compile_field_db(d, &d->kw[i].f);
		if (r < 0)
			goto out;
	}
	/* The expressions are in the databases now. */
	for (size_t i = 0; i < d->nfields + d->nkw; i++) {
		struct cfield *f = i < d->nfields ? &d->fields[i] : &d->kw[i - d->nfields].f;

		for (size_t j = 0; j < f->n; j++)
			free(f->exprs[j]);
		f->n = 0;
	}

	nwords = (d->npats + 63) / 64;
	d->bits = xcalloc(nwords ? nwords : 1, sizeof(*d->bits));
	d->hit_ids = xcalloc(d->npats ? d->npats : 1, sizeof(*d->hit_ids));
	d->fval = xcalloc(d->nfields ? d->nfields : 1, sizeof(*d->fval));
	d->fset = xcalloc(d->nfields ? d->nfields : 1, sizeof(*d->fset));
	d->cand = xcalloc(d->nrules ? d->nrules : 1, sizeof(*d->cand));
	d->stamp = xcalloc(d->nrules ? d->nrules : 1, sizeof(*d->stamp));
	d->selres = xcalloc(d->max_sels ? d->max_sels : 1, sizeof(*d->selres));

	link_correlations(d);
	plan_rules(d);
	line_filter_build(d);
	d->corr = corr_table_new(MAX_GROUPS);
	d->supp = lru_map_new(MAX_GROUPS, sizeof(struct supp), NULL);
	d->errors = NULL;
	if (d->cache_dirfd >= 0)
		close(d->cache_dirfd);
	d->cache_dirfd = -1;
	*ret = d;
	d = NULL;
	r = 0;
out:
	if (d != NULL)
		d->errors = NULL;
	if (d != NULL && d->cache_dirfd >= 0)
		close(d->cache_dirfd);
	detector_free(d);
	return r;
}

static void
csel_release(struct csel *cs)
{
	for (size_t m = 0; m < cs->nmaps; m++) {
		for (size_t t = 0; t < cs->maps[m].ntests; t++) {
			struct ctest *ct = &cs->maps[m].tests[t];

			for (size_t v = 0; v < ct->nvals; v++)
				pcre_re_free(ct->vals[v].re);
			free(ct->vals);
		}
		free(cs->maps[m].tests);
	}
	free(cs->maps);
}

void
detector_free(struct detector *d)
{
	if (d == NULL)
		return;
	for (size_t ri = 0; ri < d->nrules; ri++) {
		struct crule *cr = &d->rules[ri];

		if (cr->sels != NULL)
			for (size_t s = 0; s < cr->src->nsels; s++)
				csel_release(&cr->sels[s]);
		free(cr->sels);
		free(cr->corrs);
		free(cr->need);
	}
	free(d->rules);
	for (size_t i = 0; i < d->nfields; i++)
		cfield_release(&d->fields[i]);
	free(d->fields);
	for (size_t i = 0; i < d->nkw; i++)
		cfield_release(&d->kw[i].f);
	free(d->kw);
	free(d->ftab);
	free(d->pats);
	line_filter_free(d);
	hsdb_scratch_free(d->scratch);
	free(d->always);
	free(d->corrs);
	corr_table_free(d->corr);
	lru_map_free(d->supp);
	buf_release(&d->report);
	buf_release(&d->matched);
	buf_release(&d->group);
	free(d->bits);
	free(d->hit_ids);
	free(d->fval);
	free(d->fset);
	free(d->cand);
	free(d->stamp);
	free(d->selres);
	free(d);
}

/* ---- evaluating ---- */

static bool
field_value(const struct detector *d, int field, const char **ret_s, size_t *ret_len)
{
	const struct record_field *f;

	if (field == FIELD_RAW) {
		if (d->rec == NULL || d->rec->raw == NULL)
			return false;
		*ret_s = d->rec->raw;
		*ret_len = d->rec->raw_len;
		return true;
	}
	f = d->rec != NULL ? d->fval[field] : NULL;
	if (f == NULL)
		return false;
	*ret_s = f->value;
	*ret_len = f->len;
	return true;
}

static bool
cidr_holds(const struct cval *cv, const char *s, size_t len)
{
	char addr[INET6_ADDRSTRLEN + 1];
	unsigned char ip[16];
	unsigned full, rest;

	if (len == 0 || len >= sizeof(addr))
		return false;
	memcpy(addr, s, len);
	addr[len] = '\0';
	if (inet_pton(cv->family, addr, ip) != 1)
		return false;
	full = cv->prefix / 8;
	rest = cv->prefix % 8;
	if (memcmp(ip, cv->net, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((ip[full] ^ cv->net[full]) & (unsigned char)(0xff << (8 - rest))) == 0;
}

static bool
value_holds(const struct detector *d, const struct ctest *ct, const struct cval *cv)
{
	const char *s = NULL;
	size_t len = 0;

	switch (cv->kind) {
	case CV_HS:
		return (d->bits[cv->id / 64] >> (cv->id % 64)) & 1;
	case CV_PCRE:
		return field_value(d, ct->field, &s, &len) && pcre_re_match(cv->re, s, len);
	case CV_CIDR:
		return field_value(d, ct->field, &s, &len) && cidr_holds(cv, s, len);
	case CV_EXISTS:
		return field_value(d, ct->field, &s, &len) == cv->exists;
	case CV_NULL:
		return !field_value(d, ct->field, &s, &len) || len == 0;
	}
	return false;
}

static bool
test_holds(const struct detector *d, const struct ctest *ct)
{
	if (ct->nvals == 0)
		return false;
	for (size_t v = 0; v < ct->nvals; v++) {
		bool h = value_holds(d, ct, &ct->vals[v]);

		if (ct->all && !h)
			return false;
		if (!ct->all && h)
			return true;
	}
	return ct->all;
}

static bool
map_holds(const struct detector *d, const struct cmap *cm)
{
	if (cm->ntests == 0)
		return false;
	for (size_t t = 0; t < cm->ntests; t++)
		if (!test_holds(d, &cm->tests[t]))
			return false;
	return true;
}

static bool
sel_holds(const struct detector *d, const struct csel *cs)
{
	for (size_t m = 0; m < cs->nmaps; m++)
		if (map_holds(d, &cs->maps[m]))
			return true;
	return false;
}

static bool
cond_holds(const struct detector *d, const struct sigma_rule *r, unsigned node, unsigned depth)
{
	const struct sigma_cond *c = &r->cond_nodes[node];
	size_t n = 0;

	if (depth > COND_MAX_DEPTH)
		return false;
	switch (c->kind) {
	case SIGMA_COND_SEL:
		return d->selres[c->sel];
	case SIGMA_COND_NOT:
		return !cond_holds(d, r, c->a, depth + 1);
	case SIGMA_COND_AND:
		return cond_holds(d, r, c->a, depth + 1) && cond_holds(d, r, c->b, depth + 1);
	case SIGMA_COND_OR:
		return cond_holds(d, r, c->a, depth + 1) || cond_holds(d, r, c->b, depth + 1);
	case SIGMA_COND_OF:
		for (size_t i = 0; i < c->nsels; i++)
			n += d->selres[c->sels[i]];
		if (c->count == 0)
			return c->nsels > 0 && n == c->nsels;
		return n >= c->count;
	}
	return false;
}

static bool
rule_holds(struct detector *d, struct crule *cr)
{
	const struct sigma_rule *r = cr->src;

	for (size_t s = 0; s < r->nsels; s++)
		d->selres[s] = sel_holds(d, &cr->sels[s]);
	for (size_t i = 0; i < r->nconditions; i++)
		if (cond_holds(d, r, r->conditions[i], 0))
			return true;
	return false;
}

static bool
logsource_fits(const struct sigma_logsource *ls, const struct record *rec)
{
	if (ls->product != NULL && strcasecmp(ls->product, rec->product) != 0)
		return false;
	if (ls->category != NULL && strcasecmp(ls->category, rec->category) != 0)
		return false;
	if (ls->service != NULL && strcasecmp(ls->service, rec->service) != 0)
		return false;
	return true;
}

static void
put_bounded(struct buf *b, const char *s, size_t len)
{
	size_t room = b->max - 1 - b->len;

	(void)buf_append(b, s, len < room ? len : room);
}

/* alert.matched: "field=value" for the tests that held, each field once. */
static void
build_matched(struct detector *d, struct crule *cr)
{
	const struct sigma_rule *r = cr->src;
	int done[32];
	size_t ndone = 0;

	buf_reset(&d->matched);
	for (size_t s = 0; s < r->nsels; s++) {
		if (!d->selres[s])
			continue;
		for (size_t m = 0; m < cr->sels[s].nmaps; m++) {
			const struct cmap *cm = &cr->sels[s].maps[m];

			if (!map_holds(d, cm))
				continue;
			for (size_t t = 0; t < cm->ntests; t++) {
				const struct ctest *ct = &cm->tests[t];
				const char *v = NULL;
				size_t len = 0, k;

				for (k = 0; k < ndone && done[k] != ct->field; k++)
					;
				if (k < ndone)
					continue;
				if (ct->field == FIELD_RAW) {
					for (k = 0; k < ct->nvals; k++)
						if (ct->vals[k].src->text && value_holds(d, ct, &ct->vals[k]))
							break;
					if (k == ct->nvals)
						continue;
					v = ct->vals[k].src->text;
					len = ct->vals[k].src->len;
				} else if (!field_value(d, ct->field, &v, &len)) {
					continue;
				}
				if (ndone < sizeof(done) / sizeof(done[0]))
					done[ndone++] = ct->field;
				if (d->matched.len > 0)
					put_bounded(&d->matched, "\n", 1);
				put_bounded(&d->matched, ct->field == FIELD_RAW ? "keywords" :
					ct->src->field, strlen(ct->field == FIELD_RAW ? "keywords" :
					ct->src->field));
				put_bounded(&d->matched, "=", 1);
				put_bounded(&d->matched, v, len);
			}
		}
	}
}

static const struct record_field *
record_get_nocase(const struct record *rec, const char *name)
{
	for (unsigned i = 0; i < rec->nfields; i++)
		if (strcasecmp(rec->fields[i].name, name) == 0)
			return &rec->fields[i];
	return NULL;
}

struct emit {
	struct detector	*d;
	alert_cb	 cb;
	void		*data;
};

static void
supp_report(uint32_t ri, const char *key, size_t klen, void *payload, void *data)
{
	struct emit *em = data;
	struct supp *s = payload;
	const struct sigma_rule *r = em->d->rules[ri].src;
	char *group;
	struct alert a;

	if (s->held == 0)
		return;
	group = xstrndup(key, klen);
	a = (struct alert){ .rule_id = r->id, .title = r->title ? r->title : r->id,
		.level = r->level, .count = s->held, .group = group, .matched = "",
		.first_ns = s->first_ns, .last_ns = s->last_ns, .continued = true };
	s->held = 0;
	em->cb(&a, em->data);
	free(group);
}

static void
emit_rule_alert(struct detector *d, struct crule *cr, int64_t now, struct emit *em)
{
	const struct sigma_rule *r = cr->src;
	const struct record_field *f = NULL;
	struct alert a = { .rule_id = r->id, .title = r->title ? r->title : r->id,
		.level = r->level, .record = d->rec, .count = 1, .first_ns = now, .last_ns = now };
	struct supp *s;
	bool created;

	build_matched(d, cr);
	a.matched = d->matched.data;
	if (d->opts.suppress_ns <= 0) {
		em->cb(&a, em->data);
		return;
	}
	buf_reset(&d->group);
	if ((f = record_get(d->rec, "c-ip")) == NULL && (f = record_get(d->rec, "src_ip")) == NULL)
		f = record_get(d->rec, "user");
	if (f != NULL)
		put_bounded(&d->group, f->value, f->len);
	s = lru_map_get(d->supp, (uint32_t)(cr - d->rules), d->group.data, d->group.len,
		supp_report, em, &created);
	if (!created && now < s->window_end) {
		if (s->held == 0)
			s->first_ns = now;
		s->held++;
		s->last_ns = now;
		return;
	}
	/* A new window: this alert carries what the last one held back. */
	if (s->held > 0) {
		a.count += s->held;
		a.first_ns = s->first_ns;
	}
	s->held = 0;
	s->window_end = now + d->opts.suppress_ns;
	a.group = d->group.data;
	em->cb(&a, em->data);
}

static void
emit_corr_alert(struct detector *d, uint32_t ci, const char *group, const struct corr_hit *h,
		struct emit *em)
{
	const struct sigma_correlation *c = d->corrs[ci];
	struct alert a = { .rule_id = corr_name(c), .title = c->title ? c->title : corr_name(c),
		.level = c->level, .correlation = true, .record = d->rec, .count = h->count,
		.group = group, .matched = "", .first_ns = h->first_ns, .last_ns = h->last_ns,
		.continued = h->continued };

	em->cb(&a, em->data);
}

static void
feed_correlations(struct detector *d, struct crule *cr, int64_t now, struct emit *em)
{
	for (size_t i = 0; i < cr->ncorrs; i++) {
		const struct sigma_correlation *c = d->corrs[cr->corrs[i].ci];
		const struct record_field *vf = NULL;
		struct corr_hit h;

		buf_reset(&d->group);
		for (size_t g = 0; g < c->ngroup_by; g++) {
			const struct record_field *f = record_get_nocase(d->rec, c->group_by[g]);

			if (g > 0)
				put_bounded(&d->group, ",", 1);
			put_bounded(&d->group, c->group_by[g], strlen(c->group_by[g]));
			put_bounded(&d->group, "=", 1);
			if (f != NULL)
				put_bounded(&d->group, f->value, f->len);
		}
		if (c->value_field != NULL)
			vf = record_get_nocase(d->rec, c->value_field);
		if (corr_table_feed(d->corr, cr->corrs[i].ci, c, cr->corrs[i].slot, d->group.data,
				d->group.len, vf ? vf->value : NULL, vf ? vf->len : 0, now, &h))
			emit_corr_alert(d, cr->corrs[i].ci, d->group.data, &h, em);
	}
}

static void
add_candidate(struct detector *d, uint32_t ri)
{
	if (d->stamp[ri] == d->cur_stamp)
		return;
	d->stamp[ri] = d->cur_stamp;
	d->cand[d->ncand++] = ri;
}

/* field_find through the name cache. */
static int
field_lookup(struct detector *d, const char *name)
{
	uintptr_t p = (uintptr_t)name;
	struct name_cache *c = &d->ncache[((p >> 3) ^ (p >> 10)) % 128];
	size_t len;

	if (c->ptr == name && strcmp(c->name, name) == 0)
		return c->idx;
	len = strlen(name);
	if (len < sizeof(c->name)) {
		c->ptr = name;
		memcpy(c->name, name, len + 1);
		c->idx = field_find(d, name);
		return c->idx;
	}
	return field_find(d, name);
}

int
detector_process(struct detector *d, const struct record *r, alert_cb cb, void *data)
{
	struct hsdb_hits hits = { d->bits, d->hit_ids, 0 };
	struct emit em = { d, cb, data };
	int64_t now;
	int ret = 0;

	d->seq++;
	now = r->time_ns != 0 ? r->time_ns : d->seq;
	if (++d->cur_stamp == 0) {
		memset(d->stamp, 0, (d->nrules ? d->nrules : 1) * sizeof(*d->stamp));
		d->cur_stamp = 1;
	}
	d->rec = r;
	d->ncand = 0;
	if (d->ls_gen == 0 || memcmp(d->ls[0], r->product, sizeof(d->ls[0])) != 0 ||
			memcmp(d->ls[1], r->category, sizeof(d->ls[1])) != 0 ||
			memcmp(d->ls[2], r->service, sizeof(d->ls[2])) != 0) {
		memcpy(d->ls[0], r->product, sizeof(d->ls[0]));
		memcpy(d->ls[1], r->category, sizeof(d->ls[1]));
		memcpy(d->ls[2], r->service, sizeof(d->ls[2]));
		if (++d->ls_gen == 0) {
			for (size_t i = 0; i < d->nrules; i++)
				d->rules[i].ls_gen = 0;
			d->ls_gen = 1;
		}
	}
	for (unsigned i = 0; i < r->nfields; i++) {
		int fi = field_lookup(d, r->fields[i].name);
		struct cfield *f;

		if (fi < 0 || d->fval[fi] != NULL)
			continue;
		f = &d->fields[fi];
		d->fval[fi] = &r->fields[i];
		d->fset[d->nfset++] = (uint32_t)fi;
		if (f->db != NULL && hsdb_scan(f->db, d->scratch, r->fields[i].value, r->fields[i].len,
				&hits) < 0)
			ret = -EIO;
		for (size_t t = 0; t < f->ntriggers; t++)
			add_candidate(d, f->triggers[t]);
	}
	for (size_t i = 0; i < d->nkw && r->raw != NULL; i++) {
		struct kwgroup *g = &d->kw[i];

		if (g->ls_gen != d->ls_gen) {
			g->ls_gen = d->ls_gen;
			g->fits = logsource_fits(g->ls, r);
		}
		if (g->fits && g->f.db != NULL &&
				hsdb_scan(g->f.db, d->scratch, r->raw, r->raw_len, &hits) < 0)
			ret = -EIO;
	}
	for (size_t i = 0; i < hits.n; i++)
		if (d->pats[hits.ids[i]].trigger)
			add_candidate(d, d->pats[hits.ids[i]].rule);
	for (size_t i = 0; i < d->nalways; i++)
		add_candidate(d, d->always[i]);

	for (size_t i = 0; i < d->ncand; i++) {
		struct crule *cr = &d->rules[d->cand[i]];

		if (cr->dropped)
			continue;
		if (cr->ls_gen != d->ls_gen) {
			cr->ls_gen = d->ls_gen;
			cr->ls_fits = logsource_fits(&cr->src->logsource, r);
		}
		if (!cr->ls_fits || !rule_holds(d, cr))
			continue;
		if (cr->ncorrs > 0)
			feed_correlations(d, cr, now, &em);
		if (!cr->quiet)
			emit_rule_alert(d, cr, now, &em);
	}

	for (size_t i = 0; i < hits.n; i++)
		d->bits[hits.ids[i] / 64] = 0;
	for (size_t i = 0; i < d->nfset; i++)
		d->fval[d->fset[i]] = NULL;
	d->nfset = 0;
	d->rec = NULL;
	return ret;
}

static void
flush_corr(uint32_t ci, const char *key, size_t klen, const struct corr_hit *h, void *data)
{
	struct emit *em = data;
	char *group = xstrndup(key, klen);

	emit_corr_alert(em->d, ci, group, h, em);
	free(group);
}

void
detector_flush(struct detector *d, alert_cb cb, void *data)
{
	struct emit em = { d, cb, data };

	d->rec = NULL;
	lru_map_each(d->supp, supp_report, &em);
	corr_table_flush(d->corr, d->corrs, flush_corr, &em);
}

struct expire_ctx {
	struct emit	em;
	int64_t		now;
};

static void
supp_expire(uint32_t ri, const char *key, size_t klen, void *payload, void *data)
{
	struct expire_ctx *x = data;
	struct supp *s = payload;

	if (s->held > 0 && x->now >= s->window_end)
		supp_report(ri, key, klen, payload, &x->em);
}

void
detector_expire(struct detector *d, int64_t now, alert_cb cb, void *data)
{
	struct expire_ctx x = { { d, cb, data }, now };

	d->rec = NULL;
	lru_map_each(d->supp, supp_expire, &x);
	corr_table_expire(d->corr, d->corrs, now, flush_corr, &x.em);
}

int64_t
detector_window_ns(const struct detector *d)
{
	int64_t w = d->opts.suppress_ns;

	for (size_t ci = 0; ci < d->ncorrs; ci++)
		if (d->corrs[ci] != NULL && d->corrs[ci]->timespan_ns > w)
			w = d->corrs[ci]->timespan_ns;
	return w;
}

int
detector_cache_default(char *buf, size_t size)
{
	return hsdb_cache_default(buf, size);
}

void
detector_counts(const struct detector *d, size_t *ret_rules, size_t *ret_correlations)
{
	if (ret_rules != NULL)
		*ret_rules = d->nrules_used;
	if (ret_correlations != NULL)
		*ret_correlations = d->ncorrs_used;
}

void
detector_stats(const struct detector *d, struct detector_stats *ret)
{
	struct detector_stats st = { .hs_patterns = d->hs_patterns,
		.pcre_patterns = d->pcre_patterns, .suppression_groups = lru_map_size(d->supp),
		.hs_databases = d->hs_dbs, .hs_databases_cached = d->hs_dbs_cached,
		.line_filter = d->lf_db != NULL, .line_filter_literals = d->lf_literals };

	for (size_t ri = 0; ri < d->nrules; ri++) {
		const struct crule *cr = &d->rules[ri];

		if (cr->sels == NULL)
			continue;
		for (size_t s = 0; s < cr->src->nsels; s++)
			for (size_t m = 0; m < cr->sels[s].nmaps; m++)
				for (size_t t = 0; t < cr->sels[s].maps[m].ntests; t++) {
					const struct ctest *ct = &cr->sels[s].maps[m].tests[t];

					for (size_t v = 0; v < ct->nvals; v++)
						if (ct->vals[v].re != NULL)
							st.pcre_limit_hits += pcre_re_limit_hits(ct->vals[v].re);
				}
	}
	st.correlation_groups = corr_table_groups(d->corr);
	*ret = st;
}

const char *
detector_report(const struct detector *d)
{
	return d->report.data;
}
