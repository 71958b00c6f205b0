/*
 * line_filter.c - which raw lines are worth decoding (detector.h,
 * detector_filter_block): one Hyperscan database of literals, scanned once
 * over a whole block of lines.
 *
 * A rule can hold on a line only if, in each selection its condition needs
 * (detector.c's needed_sels), every map holds, so only if one test of each
 * map holds. For each such map we take the test whose text is rarest
 * (line_filter_test_strength) and, for each of its values, text that a line
 * on which the value matches must hold:
 *   - a Sigma string (equals, contains, startswith, endswith; wildcards * and
 *     ?): its best run without a wildcard;
 *   - a regular expression: a set of literals one of which every match holds
 *     (re_literals.h);
 *   - a field no decoder gives by itself (a JSON key, an RFC 5424 parameter):
 *     the field's own name, which the line must hold;
 *   - and for a field a decoder fills with made-up values (decode/vocab.h),
 *     also the witness of every such value the value matches.
 * When rarer, the names of the programs the rule's logsource service comes
 * from take the place of all that (dec_service_programs). A line holding
 * none of the text gives no field a value the rule could match: decoders'
 * other values are pieces of the line, or unescaped from a line holding a
 * backslash (so a backslash is a literal too). Literals are matched without
 * case (a superset of cased matches). Which test and which set is "rarest"
 * is a guess (relit_score) that only ever chooses between sound options.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xalloc.h"
#include "detect/decode/vocab.h"
#include "detect/detector_internal.h"
#include "detect/hs_db.h"
#include "detect/re_literals.h"
#include "core/banned.h"

struct lits {
	char	**s;
	size_t	 n, cap;
};

/* Add an expression (owned, freed when there already). */
static void
lits_put(struct lits *l, char *expr)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->s[i], expr) == 0) {
			free(expr);
			return;
		}
	l->s = xgrow(l->s, &l->cap, l->n + 1, sizeof(*l->s));
	l->s[l->n++] = expr;
}

/* Add a literal, as a Hyperscan expression. */
static void
lits_add(struct lits *l, const char *p, size_t n)
{
	struct buf b;

	buf_init(&b, 0);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			(void)buf_putc(&b, (char)c);
		else
			(void)buf_appendf(&b, "\\x%02x", (unsigned)c);
	}
	lits_put(l, buf_detach(&b, NULL));
}

/* The best run of a Sigma string without wildcards (escapes \\*, \\? and
 * \\\\ are the characters themselves), as a set of one; false when it has
 * none. */
static bool
sigma_literal(const struct sigma_value *v, struct relit_set *out)
{
	char cur[RELIT_LEN];
	size_t run = 0, best = 0;

	out->n = 0;
	for (size_t i = 0; i <= v->len; i++) {
		char c = i < v->len ? v->text[i] : '*';

		if (c == '\\' && i + 1 < v->len &&
				(v->text[i + 1] == '*' || v->text[i + 1] == '?' || v->text[i + 1] == '\\')) {
			c = v->text[++i];
		} else if (c == '*' || c == '?') {
			if (run > 0 && relit_score(cur, run) > best) {
				best = relit_score(cur, run);
				memcpy(out->s[0], cur, run);
				out->len[0] = run;
				out->n = 1;
			}
			run = 0;
			continue;
		}
		if (run < sizeof(cur))
			cur[run++] = c;
	}
	return out->n > 0;
}

/* What a line must hold for one value of a test to match there: a set of
 * literals (any one will do), added to l. Its strength is its shortest
 * literal (0: none can be said). */
static size_t
value_literals(struct detector *d, const struct ctest *ct, const struct cval *cv, struct lits *l)
{
	const struct sigma_value *v = cv->src;
	const char *name = ct->field != FIELD_RAW ? d->fields[ct->field].name : NULL;
	struct relit_set set = { 0 };
	size_t strength;
	bool ok;

	if (cv->kind != CV_HS)
		return 0;
	if (v->op == SIGMA_RE)
		ok = re_required_literals(v->text, v->len, &set) == 0;
	else
		ok = sigma_literal(v, &set);
	strength = ok ? relit_set_score(&set) : 0;
	/* A field no decoder gives by itself is named in the line (a JSON key,
	 * an RFC 5424 parameter): its name, which plain log lines never hold,
	 * is taken over the value's text. */
	if (name != NULL && !dec_field_is_fixed(name)) {
		const char *last = strrchr(name, '.');

		last = last != NULL ? last + 1 : name;
		if (*last != '\0') {
			if (l != NULL)
				lits_add(l, last, strlen(last));
			return relit_score(last, strlen(last));
		}
	}
	if (!ok || strength == 0)
		return 0;
	if (l != NULL)
		for (size_t i = 0; i < set.n; i++)
			lits_add(l, set.s[i], set.len[i]);
	if (ct->field == FIELD_RAW || d->fields[ct->field].db == NULL)
		return strength;
	/* Made-up values of this field that the pattern matches: their
	 * witnesses (the field's own database says which match). */
	for (size_t i = 0; i < DEC_V_COUNT; i++) {
		const struct dec_vocab *w = &dec_vocab[i];
		struct hsdb_hits hits = { d->bits, d->hit_ids, 0 };
		bool hit = false;

		if (strcasecmp(w->field, name) != 0)
			continue;
		if (hsdb_scan(d->fields[ct->field].db, d->scratch, w->value, strlen(w->value),
				&hits) < 0)
			hit = true;	/* cannot tell: take the witness */
		for (size_t k = 0; k < hits.n; k++) {
			hit |= hits.ids[k] == cv->id;
			d->bits[hits.ids[k] / 64] = 0;
		}
		if (hit) {
			if (l != NULL)
				lits_add(l, w->witness, strlen(w->witness));
			if (relit_score(w->witness, strlen(w->witness)) < strength)
				strength = relit_score(w->witness, strlen(w->witness));
		}
	}
	return strength;
}

/* A test's strength: its weakest value's (0 when a value has none, or when
 * it is not a Hyperscan-only test). */
size_t
line_filter_test_strength(struct detector *d, const struct ctest *ct)
{
	size_t min = SIZE_MAX;

	if (ct->nvals == 0)
		return 0;
	for (size_t v = 0; v < ct->nvals; v++) {
		size_t s = value_literals(d, ct, &ct->vals[v], NULL);

		if (s < min)
			min = s;
	}
	return min;
}

/* The literals of one filterable rule: for each map of each selection it
 * needs, the strongest test's (a map holds only if each of its tests does);
 * or, when stronger, the names of the programs its logsource service comes
 * from (a rule holds only on lines of its logsource). false: some map has
 * no test with literals, and the logsource names no program. */
static bool
rule_literals(struct detector *d, const struct crule *cr, struct lits *l)
{
	struct lits mine = { 0 };
	const char *progs[32];
	size_t np = 0, strength = SIZE_MAX, pstrength = SIZE_MAX;
	bool ok = true;

	if (cr->src->logsource.service != NULL)
		np = dec_service_programs(cr->src->logsource.service, progs, 32);
	for (size_t i = 0; i < np; i++)
		if (relit_score(progs[i], strlen(progs[i])) < pstrength)
			pstrength = relit_score(progs[i], strlen(progs[i]));
	for (size_t s = 0; s < cr->src->nsels && ok; s++) {
		if (!cr->need[s])
			continue;
		for (size_t m = 0; m < cr->sels[s].nmaps && ok; m++) {
			const struct cmap *cm = &cr->sels[s].maps[m];
			const struct ctest *best = NULL;
			size_t best_strength = 0;

			for (size_t t = 0; t < cm->ntests; t++) {
				size_t st = line_filter_test_strength(d, &cm->tests[t]);

				if (st > best_strength) {
					best = &cm->tests[t];
					best_strength = st;
				}
			}
			if (best == NULL) {
				ok = false;
				break;
			}
			if (best_strength < strength)
				strength = best_strength;
			for (size_t v = 0; v < best->nvals; v++)
				(void)value_literals(d, best, &best->vals[v], &mine);
		}
	}
	if (np > 0 && (!ok || pstrength > strength)) {
		for (size_t i = 0; i < np; i++)
			lits_add(l, progs[i], strlen(progs[i]));
		ok = true;
	} else if (ok) {
		for (size_t i = 0; i < mine.n; i++) {
			lits_put(l, mine.s[i]);
			mine.s[i] = NULL;
		}
	}
	for (size_t i = 0; i < mine.n; i++)
		free(mine.s[i]);
	free(mine.s);
	return ok;
}

void
line_filter_build(struct detector *d)
{
	struct lits l = { 0 };
	const char *why = NULL;
	unsigned *flags = NULL, *ids = NULL;
	const struct sigma_rule *off = NULL;
	int r;

	if (d->nalways > 0) {
		off = d->rules[d->always[0]].src;
		why = "the rule can hold on a line without any of its patterns matching";
		goto out;
	}
	for (size_t ri = 0; ri < d->nrules; ri++) {
		const struct crule *cr = &d->rules[ri];

		if (cr->dropped)
			continue;
		if (!cr->filterable) {
			off = cr->src;
			why = "a selection it needs matches without a Hyperscan pattern "
				"(cidr, exists, null, PCRE2, or a condition that cannot be split)";
			goto out;
		}
		if (!rule_literals(d, cr, &l)) {
			off = cr->src;
			why = "a value it needs has no literal text to look for";
			goto out;
		}
	}
	lits_add(&l, "\\", 1);
	flags = xcalloc(l.n, sizeof(*flags));
	ids = xcalloc(l.n, sizeof(*ids));
	for (size_t i = 0; i < l.n; i++) {
		flags[i] = HSDB_CASELESS | HSDB_EVERY;
		ids[i] = (unsigned)i;
	}
	bool cached = false;

	r = hsdb_compile((const char *const *)l.s, flags, ids, l.n, NULL, NULL, d->cache_dirfd,
		&d->lf_db, &cached);
	d->hs_dbs++;
	d->hs_dbs_cached += cached;
	if (r == 0 && d->lf_db != NULL && hsdb_scratch_grow(&d->scratch, d->lf_db) < 0) {
		hsdb_free(d->lf_db);
		d->lf_db = NULL;
	}
	if (d->lf_db == NULL)
		why = "Hyperscan could not compile its literals";
	else
		d->lf_literals = l.n;
out:
	d->lf_why = why;
	if (why != NULL)
		(void)buf_appendf(&d->report, "%s: %s: line filter off: %s\n",
			off != NULL && off->path ? off->path : "-", off != NULL && off->id ? off->id : "-",
			why);
	for (size_t i = 0; i < l.n; i++)
		free(l.s[i]);
	free(l.s);
	free(flags);
	free(ids);
}

void
line_filter_free(struct detector *d)
{
	hsdb_free(d->lf_db);
	d->lf_db = NULL;
	free(d->lf_cand);
	d->lf_cand = NULL;
}

struct scan_ctx {
	struct detector	*d;
	const char	*buf;
	size_t		 len;
	size_t		 last_start, last_end;	/* the last line taken: [start, end) */
	bool		 any, unordered;
};

static void
take(struct scan_ctx *sc, size_t start, size_t end)
{
	struct detector *d = sc->d;

	d->lf_cand = xgrow(d->lf_cand, &d->lf_cap, d->lf_ncand + 1, sizeof(*d->lf_cand));
	d->lf_cand[d->lf_ncand++] = start;
	sc->last_start = start;
	sc->last_end = end;
	sc->any = true;
}

/* A literal ends at buf[end - 1]: take its line once. */
static int
on_literal(unsigned id, size_t end, void *data)
{
	struct scan_ctx *sc = data;
	size_t at = end > 0 ? end - 1 : 0, start, stop;
	const char *nl;

	(void)id;
	if (sc->any && at >= sc->last_start && at < sc->last_end)
		return 0;
	if (sc->any && at < sc->last_start) {
		/* Hyperscan reports in order of end offset; should one come
		 * earlier anyway, take its line and sort at the end. */
		sc->unordered = true;
		nl = at > 0 ? memrchr(sc->buf, '\n', at) : NULL;
	} else {
		size_t from = sc->any ? sc->last_end : 0;

		nl = at > from ? memrchr(sc->buf + from, '\n', at - from) : NULL;
		if (nl == NULL && from > 0)
			nl = sc->buf + from - 1;
	}
	start = nl != NULL ? (size_t)(nl - sc->buf) + 1 : 0;
	nl = memchr(sc->buf + at, '\n', sc->len - at);
	stop = nl != NULL ? (size_t)(nl - sc->buf) + 1 : sc->len;
	take(sc, start, stop);
	return 0;
}

static int
cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

int
detector_filter_block(struct detector *d, const char *buf, size_t len, const size_t **ret,
		size_t *ret_n)
{
	struct scan_ctx sc = { .d = d, .buf = buf, .len = len };
	int r;

	*ret = NULL;
	*ret_n = 0;
	if (d->lf_db == NULL)
		return -ENOTSUP;
	d->lf_ncand = 0;
	r = hsdb_scan_all(d->lf_db, d->scratch, buf, len, on_literal, &sc);
	if (r < 0)
		return r;
	if (sc.unordered && d->lf_ncand > 1) {
		size_t n = 1;

		qsort(d->lf_cand, d->lf_ncand, sizeof(*d->lf_cand), cmp_size);
		for (size_t i = 1; i < d->lf_ncand; i++)
			if (d->lf_cand[i] != d->lf_cand[n - 1])
				d->lf_cand[n++] = d->lf_cand[i];
		d->lf_ncand = n;
	}
	*ret = d->lf_cand;
	*ret_n = d->lf_ncand;
	return 0;
}

void
detector_skip(struct detector *d, uint64_t nrecords)
{
	d->seq += (int64_t)nrecords;
}
