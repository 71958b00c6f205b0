/* test_detector.c - Sigma rules (parsed from YAML) compiled to Hyperscan and
 * PCRE2, run over hand-made records: each modifier, each condition form,
 * keywords, logsource filtering, suppression and the three correlation
 * types; a ruleset of 1,000 rules; the shared SigmaHQ rules when present. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/xalloc.h"
#include "detect/correlation.h"
#include "detect/detector.h"
#include "detect/pcre_re.h"
#include "detect/record.h"
#include "detect/sigma/rule.h"
#include "core/banned.h"

#define NS	INT64_C(1000000000)
#define MAX_SEEN	256

struct seen {
	char		*rule_id, *group, *matched;
	uint64_t	 count;
	bool		 correlation, has_record, continued;
	int64_t		 first_ns, last_ns;
};

struct fixture {
	struct sigma_ruleset	 rs;
	struct detector		*d;
	struct buf		 errors;
	struct record		 rec;
	struct seen		 seen[MAX_SEEN];
	size_t			 nseen;
};

static void
on_alert(const struct alert *a, void *data)
{
	struct fixture *f = data;
	struct seen *s;

	assert_non_null(a->rule_id);
	assert_non_null(a->title);
	assert_true(a->count >= 1);
	if (f->nseen >= MAX_SEEN)
		return;
	s = &f->seen[f->nseen++];
	s->rule_id = xstrdup(a->rule_id);
	s->group = a->group ? xstrdup(a->group) : NULL;
	s->matched = a->matched ? xstrdup(a->matched) : NULL;
	s->count = a->count;
	s->correlation = a->correlation;
	s->has_record = a->record != NULL;
	s->continued = a->continued;
	s->first_ns = a->first_ns;
	s->last_ns = a->last_ns;
}

static void
clear_seen(struct fixture *f)
{
	for (size_t i = 0; i < f->nseen; i++) {
		free(f->seen[i].rule_id);
		free(f->seen[i].group);
		free(f->seen[i].matched);
	}
	f->nseen = 0;
}

static size_t
count_rule(const struct fixture *f, const char *id)
{
	size_t n = 0;

	for (size_t i = 0; i < f->nseen; i++)
		n += strcmp(f->seen[i].rule_id, id) == 0;
	return n;
}

static const struct seen *
find_rule(const struct fixture *f, const char *id)
{
	for (size_t i = 0; i < f->nseen; i++)
		if (strcmp(f->seen[i].rule_id, id) == 0)
			return &f->seen[i];
	return NULL;
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	buf_init(&f->errors, 0);
	record_init(&f->rec);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	clear_seen(f);
	detector_free(f->d);
	sigma_ruleset_release(&f->rs);
	buf_release(&f->errors);
	record_release(&f->rec);
	free(f);
	return 0;
}

/* Parse yaml (which must load without errors) and build the detector. */
static void
load_opts(struct fixture *f, const char *yaml, int64_t suppress_ns)
{
	struct detector_opts o = { .suppress_ns = suppress_ns };

	assert_int_equal(sigma_load_text(&f->rs, "test.yml", yaml, strlen(yaml)), 0);
	for (size_t i = 0; i < f->rs.nerrors; i++)
		fprintf(stderr, "parse error: %s:%u: %s\n", f->rs.errors[i].path,
			f->rs.errors[i].line, f->rs.errors[i].message);
	assert_int_equal(f->rs.nerrors, 0);
	assert_int_equal(detector_build(&f->rs, &o, &f->d, &f->errors), 0);
}

static void
load(struct fixture *f, const char *yaml)
{
	load_opts(f, yaml, 0);
}

/* Start a record: logsource and time. */
static void
rec_start(struct fixture *f, const char *product, const char *category, const char *service,
		int64_t time_ns)
{
	record_reset(&f->rec);
	snprintf(f->rec.product, sizeof(f->rec.product), "%s", product);
	snprintf(f->rec.category, sizeof(f->rec.category), "%s", category);
	snprintf(f->rec.service, sizeof(f->rec.service), "%s", service);
	f->rec.time_ns = time_ns;
}

static void
rec_field(struct fixture *f, const char *name, const char *value)
{
	assert_int_equal(record_add_copy(&f->rec, name, value, strlen(value)), 0);
}

static void
rec_raw(struct fixture *f, const char *raw)
{
	f->rec.raw = raw;
	f->rec.raw_len = strlen(raw);
	f->rec.message = raw;
	f->rec.message_len = f->rec.raw_len;
}

static void
run(struct fixture *f)
{
	assert_int_equal(detector_process(f->d, &f->rec, on_alert, f), 0);
}

/* Run a web record with one field and say whether rule id alerted. */
static bool
web_hits(struct fixture *f, const char *field, const char *value, const char *id)
{
	bool hit;

	rec_start(f, "", "webserver", "nginx", 0);
	rec_field(f, field, value);
	run(f);
	hit = count_rule(f, id) > 0;
	clear_seen(f);
	return hit;
}

#define WEB_RULE(id, detection) \
	"title: " id "\nid: " id "\nlevel: high\nlogsource:\n  category: webserver\n" \
	"detection:\n" detection

static void
equals_with_wildcards(void **state)
{
	struct fixture *f = *state;

	load(f, WEB_RULE("eq", "  sel:\n    cs-uri-stem:\n      - '/admin*.php'\n      - '/a?c'\n"
		"      - '/lit\\*star'\n      - '/exact'\n  condition: sel\n"));
	assert_true(web_hits(f, "cs-uri-stem", "/admin.php", "eq"));
	assert_true(web_hits(f, "cs-uri-stem", "/ADMIN/x/y.PHP", "eq"));
	assert_false(web_hits(f, "cs-uri-stem", "/admin.php5", "eq"));
	assert_false(web_hits(f, "cs-uri-stem", "x/admin.php", "eq"));
	assert_true(web_hits(f, "cs-uri-stem", "/abc", "eq"));
	assert_false(web_hits(f, "cs-uri-stem", "/abbc", "eq"));
	assert_true(web_hits(f, "cs-uri-stem", "/lit*star", "eq"));
	assert_false(web_hits(f, "cs-uri-stem", "/litXstar", "eq"));
	assert_true(web_hits(f, "cs-uri-stem", "/Exact", "eq"));
	assert_false(web_hits(f, "cs-uri-stem", "/exact/", "eq"));
	assert_false(web_hits(f, "cs-uri-stem", "", "eq"));
	assert_false(web_hits(f, "other", "/exact", "eq"));
	/* Field names are compared case-insensitively. */
	assert_true(web_hits(f, "CS-URI-STEM", "/exact", "eq"));
}

static void
contains_startswith_endswith(void **state)
{
	struct fixture *f = *state;

	load(f, WEB_RULE("c", "  sel:\n    cs-uri-query|contains: 'union select'\n  condition: sel\n")
		"---\n" WEB_RULE("s", "  sel:\n    cs-uri-stem|startswith: '/wp-'\n  condition: sel\n")
		"---\n" WEB_RULE("e", "  sel:\n    cs-uri-stem|endswith: '.env'\n  condition: sel\n")
		"---\n" WEB_RULE("dots", "  sel:\n    cs-uri-stem|contains: '../'\n  condition: sel\n"));
	assert_true(web_hits(f, "cs-uri-query", "id=1 UNION SELECT pass", "c"));
	assert_false(web_hits(f, "cs-uri-query", "id=1 union  select", "c"));
	assert_true(web_hits(f, "cs-uri-stem", "/wp-login.php", "s"));
	assert_false(web_hits(f, "cs-uri-stem", "/x/wp-login.php", "s"));
	assert_true(web_hits(f, "cs-uri-stem", "/app/.ENV", "e"));
	assert_false(web_hits(f, "cs-uri-stem", "/app/.env.bak", "e"));
	/* Regex metacharacters in a value are literal. */
	assert_true(web_hits(f, "cs-uri-stem", "/a/../etc", "dots"));
	assert_false(web_hits(f, "cs-uri-stem", "/a/xx/etc", "dots"));
}

static void
all_modifier(void **state)
{
	struct fixture *f = *state;

	load(f, WEB_RULE("all", "  sel:\n    cs-uri-query|contains|all:\n      - union\n"
		"      - select\n      - from\n  condition: sel\n"));
	assert_true(web_hits(f, "cs-uri-query", "SELECT a FROM b UNION x", "all"));
	assert_false(web_hits(f, "cs-uri-query", "select a from b", "all"));
}

static void
re_with_flags(void **state)
{
	struct fixture *f = *state;

	load(f, WEB_RULE("re", "  sel:\n    cs-uri-query|re: '^id=[0-9]+ or 1=1$'\n  condition: sel\n")
		"---\n" WEB_RULE("rei", "  sel:\n    cs-user-agent|re|i: 'sqlmap/[0-9.]+'\n  condition: sel\n")
		"---\n" WEB_RULE("rem", "  sel:\n    cs-referer|re|m: '^evil$'\n  condition: sel\n")
		"---\n" WEB_RULE("res", "  sel:\n    cs-referer|re|s: 'a.b'\n  condition: sel\n"));
	assert_true(web_hits(f, "cs-uri-query", "id=12 or 1=1", "re"));
	assert_false(web_hits(f, "cs-uri-query", "ID=12 OR 1=1", "re"));	/* re is case-sensitive */
	assert_true(web_hits(f, "cs-user-agent", "SQLMAP/1.7.2#stable", "rei"));
	assert_false(web_hits(f, "cs-user-agent", "curl/8", "rei"));
	assert_true(web_hits(f, "cs-referer", "x\nevil\ny", "rem"));
	assert_false(web_hits(f, "cs-referer", "x evil y", "rem"));
	assert_true(web_hits(f, "cs-referer", "a\nb", "res"));
	assert_true(web_hits(f, "cs-referer", "axb", "rem") == false);
	assert_string_equal(detector_report(f->d), "");
}

static void
re_refused_by_hyperscan_runs_on_pcre2(void **state)
{
	struct fixture *f = *state;
	struct detector_stats st;

	load(f, WEB_RULE("backref", "  sel:\n    cs-uri-query|re: '(ab)\\1'\n  condition: sel\n")
		"---\n" WEB_RULE("look", "  sel:\n    cs-uri-query|re: 'pass(?!word)'\n  condition: sel\n"));
	assert_non_null(strstr(detector_report(f->d), "backref"));
	assert_non_null(strstr(detector_report(f->d), "PCRE2"));
	detector_stats(f->d, &st);
	assert_int_equal(st.pcre_patterns, 2);
	assert_true(web_hits(f, "cs-uri-query", "xababy", "backref"));
	assert_false(web_hits(f, "cs-uri-query", "xaby", "backref"));
	assert_true(web_hits(f, "cs-uri-query", "pass=1", "look"));
	assert_false(web_hits(f, "cs-uri-query", "password=1", "look"));
	assert_false(web_hits(f, "other", "pass=1", "look"));
}

static void
regex_both_refuse_drops_the_rule(void **state)
{
	struct fixture *f = *state;
	size_t nrules = 9;

	load(f, WEB_RULE("bad", "  sel:\n    cs-uri-query|re: '(unclosed'\n  condition: sel\n")
		"---\n" WEB_RULE("good", "  sel:\n    cs-uri-query|contains: 'x'\n  condition: sel\n"));
	assert_non_null(strstr(f->errors.data, "test.yml: bad: "));
	assert_null(strstr(f->errors.data, "good"));
	detector_counts(f->d, &nrules, NULL);
	assert_int_equal(nrules, 1);
	assert_true(web_hits(f, "cs-uri-query", "x", "good"));
	assert_false(web_hits(f, "cs-uri-query", "(unclosed", "bad"));
}

static void
catastrophic_regex_finishes(void **state)
{
	struct fixture *f = *state;
	struct detector_stats st;
	size_t n = 50000;
	char *v = xmalloc(n + 1);
	struct timespec t0, t1;
	double secs;

	memset(v, 'a', n - 1);
	v[n - 1] = 'b';
	v[n] = '\0';
	/* The first goes to Hyperscan (no backtracking); the lookahead makes
	 * the second PCRE2's, which stops at its match limit. */
	load(f, WEB_RULE("hs", "  sel:\n    cs-uri-query|re: '(a+)+$'\n  condition: sel\n")
		"---\n" WEB_RULE("pcre", "  sel:\n    cs-uri-query|re: '(?=a)(a+)+$'\n  condition: sel\n"));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_false(web_hits(f, "cs-uri-query", v, "hs"));
	assert_false(web_hits(f, "cs-uri-query", v, "pcre"));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(secs < 5.0);	/* a hang would be hours */
	detector_stats(f->d, &st);
	assert_int_equal(st.pcre_patterns, 1);
	assert_true(st.pcre_limit_hits >= 1);
	/* A plain match still works. */
	assert_true(web_hits(f, "cs-uri-query", "aaa", "pcre"));
	free(v);
}

static void
cidr_v4_v6(void **state)
{
	struct fixture *f = *state;

	load(f, WEB_RULE("net", "  sel:\n    c-ip|cidr:\n      - '10.0.0.0/8'\n"
		"      - '192.168.1.128/25'\n      - '2001:db8::/32'\n      - '203.0.113.7'\n"
		"  condition: sel\n"));
	assert_true(web_hits(f, "c-ip", "10.200.3.4", "net"));
	assert_false(web_hits(f, "c-ip", "11.0.0.1", "net"));
	assert_true(web_hits(f, "c-ip", "192.168.1.200", "net"));
	assert_false(web_hits(f, "c-ip", "192.168.1.127", "net"));
	assert_true(web_hits(f, "c-ip", "2001:db8:1::5", "net"));
	assert_false(web_hits(f, "c-ip", "2001:db9::1", "net"));
	assert_true(web_hits(f, "c-ip", "203.0.113.7", "net"));
	assert_false(web_hits(f, "c-ip", "203.0.113.8", "net"));
	assert_false(web_hits(f, "c-ip", "not an address", "net"));
	assert_false(web_hits(f, "c-ip", "", "net"));
}

static void
exists_and_null(void **state)
{
	struct fixture *f = *state;

	load(f, WEB_RULE("ex", "  sel:\n    cs-referer|exists: true\n  condition: sel\n")
		"---\n" WEB_RULE("noex", "  sel:\n    cs-referer|exists: false\n  condition: sel\n")
		"---\n" WEB_RULE("nul", "  sel:\n    cs-user-agent: null\n  condition: sel\n"));
	rec_start(f, "", "webserver", "nginx", 0);
	rec_field(f, "cs-referer", "x");
	rec_field(f, "cs-user-agent", "");
	run(f);
	assert_int_equal(count_rule(f, "ex"), 1);
	assert_int_equal(count_rule(f, "noex"), 0);
	assert_int_equal(count_rule(f, "nul"), 1);
	clear_seen(f);
	rec_start(f, "", "webserver", "nginx", 0);
	rec_field(f, "cs-user-agent", "curl");
	run(f);
	assert_int_equal(count_rule(f, "ex"), 0);
	assert_int_equal(count_rule(f, "noex"), 1);
	assert_int_equal(count_rule(f, "nul"), 0);
	clear_seen(f);
	rec_start(f, "", "webserver", "nginx", 0);
	run(f);
	assert_int_equal(count_rule(f, "noex"), 1);
	assert_int_equal(count_rule(f, "nul"), 1);
}

static void
cased_modifier(void **state)
{
	struct fixture *f = *state;

	load(f, WEB_RULE("cased", "  sel:\n    cs-method|cased: 'GET'\n  condition: sel\n"));
	assert_true(web_hits(f, "cs-method", "GET", "cased"));
	assert_false(web_hits(f, "cs-method", "get", "cased"));
}

static void
condition_forms(void **state)
{
	struct fixture *f = *state;
	static const char *const ids[] = { "and", "or", "not", "paren", "one", "allof", "them", "anyof" };
	/* Which rules fire for a=1,b=1 / a=1 / b=1 / c=1 / a=1,c=1 / nothing. */
	static const struct {
		const char	*a, *b, *c;
		bool		 want[8];
	} cases[] = {
		{ "1", "1", NULL, { true, true, false, false, true, false, false, true } },
		{ "1", NULL, NULL, { false, true, false, true, true, false, false, true } },
		{ NULL, "1", NULL, { false, true, false, false, true, false, false, true } },
		{ NULL, NULL, "1", { false, false, false, false, false, false, false, false } },
		{ "1", NULL, "1", { false, true, false, true, true, false, false, true } },
		{ "1", "1", "1", { true, true, false, false, true, true, true, true } },
	};
	const char *dets[] = {
		"  condition: sel_a and sel_b\n",
		"  condition: sel_a or sel_b\n",
		"  condition: not sel_a and not sel_b and not sel_c\n",
		"  condition: sel_a and not (sel_b or sel_c and sel_x)\n",
		"  condition: 1 of sel_*\n",
		"  condition: all of sel_*\n",
		"  condition: all of them\n",
		"  condition: 1 of them\n",
	};
	struct buf y;

	buf_init(&y, 0);
	for (size_t i = 0; i < 8; i++) {
		if (i > 0)
			buf_puts(&y, "---\n");
		buf_appendf(&y, "title: %s\nid: %s\nlogsource:\n  category: webserver\ndetection:\n"
			"  sel_a:\n    a: '1'\n  sel_b:\n    b: '1'\n", ids[i], ids[i]);
		if (i != 4 && i != 7)
			buf_puts(&y, "  sel_c:\n    c: '1'\n");
		if (i == 3)
			buf_puts(&y, "  sel_x:\n    x: '1'\n");
		buf_puts(&y, dets[i]);
	}
	load(f, y.data);
	buf_release(&y);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		rec_start(f, "", "webserver", "", 0);
		if (cases[k].a)
			rec_field(f, "a", cases[k].a);
		if (cases[k].b)
			rec_field(f, "b", cases[k].b);
		if (cases[k].c)
			rec_field(f, "c", cases[k].c);
		rec_field(f, "x", "0");
		run(f);
		for (size_t i = 0; i < 8; i++) {
			if ((count_rule(f, ids[i]) > 0) != cases[k].want[i])
				fail_msg("case %zu rule %s: want %d", k, ids[i], cases[k].want[i]);
		}
		clear_seen(f);
	}
	/* "not" with nothing present: fires on a record with no fields. */
	rec_start(f, "", "webserver", "", 0);
	run(f);
	assert_int_equal(count_rule(f, "not"), 1);
	assert_int_equal(f->nseen, 1);
}

static void
common_and_rare_parts(void **state)
{
	struct fixture *f = *state;

	/* Only the rare part of each rule makes it a candidate; the result
	 * must be the same as evaluating every rule. */
	load(f, WEB_RULE("mk", "  method:\n    cs-method: GET\n  keywords:\n    - 'eval('\n"
		"  filter:\n    sc-status: '404'\n  condition: method and keywords and not filter\n")
		"---\n" WEB_RULE("or2", "  a:\n    cs-method: GET\n    cs-uri-stem|endswith: '.asp'\n"
		"  b:\n    cs-uri-query|contains: 'cmd='\n  condition: a or b\n"));
	rec_start(f, "", "webserver", "", 0);
	rec_field(f, "cs-method", "GET");
	rec_field(f, "sc-status", "200");
	rec_raw(f, "GET /x 200");
	run(f);
	assert_int_equal(f->nseen, 0);
	rec_start(f, "", "webserver", "", 0);
	rec_field(f, "cs-method", "GET");
	rec_field(f, "sc-status", "200");
	rec_raw(f, "GET /x?a=eval(1) 200");
	run(f);
	assert_int_equal(count_rule(f, "mk"), 1);
	clear_seen(f);
	rec_start(f, "", "webserver", "", 0);
	rec_field(f, "cs-method", "GET");
	rec_field(f, "sc-status", "404");
	rec_raw(f, "GET /x?a=eval(1) 404");
	run(f);
	assert_int_equal(f->nseen, 0);
	assert_true(web_hits(f, "cs-uri-query", "x=1&cmd=id", "or2"));
	rec_start(f, "", "webserver", "", 0);
	rec_field(f, "cs-method", "GET");
	rec_field(f, "cs-uri-stem", "/a.ASP");
	run(f);
	assert_int_equal(count_rule(f, "or2"), 1);
	clear_seen(f);
	rec_start(f, "", "webserver", "", 0);
	rec_field(f, "cs-method", "POST");
	rec_field(f, "cs-uri-stem", "/a.asp");
	run(f);
	assert_int_equal(f->nseen, 0);
}

static void
keyword_lists(void **state)
{
	struct fixture *f = *state;

	load(f, "title: kw\nid: kw\nlogsource:\n  product: linux\ndetection:\n  keywords:\n"
		"    - 'Failed password'\n    - 'authentication failure'\n  condition: keywords\n");
	rec_start(f, "linux", "", "sshd", 0);
	rec_raw(f, "Nov 22 06:00:00 h sshd[1]: FAILED PASSWORD for root from 1.2.3.4");
	run(f);
	assert_int_equal(count_rule(f, "kw"), 1);
	assert_non_null(strstr(f->seen[0].matched, "Failed password"));
	clear_seen(f);
	rec_start(f, "linux", "", "sshd", 0);
	rec_raw(f, "Nov 22 06:00:00 h sshd[1]: Accepted password for root");
	run(f);
	assert_int_equal(f->nseen, 0);
}

static void
logsource_filtering(void **state)
{
	struct fixture *f = *state;

	load(f, "title: p\nid: p\nlogsource:\n  product: linux\n  service: sshd\ndetection:\n"
		"  sel:\n    user: root\n  condition: sel\n"
		"---\ntitle: any\nid: any\nlogsource:\n  category: test\ndetection:\n"
		"  sel:\n    user: root\n  condition: sel\n"
		"---\ntitle: none\nid: none\nlogsource: {}\ndetection:\n"
		"  sel:\n    user: root\n  condition: sel\n");
	rec_start(f, "Linux", "", "SSHD", 0);
	rec_field(f, "user", "root");
	run(f);
	assert_int_equal(count_rule(f, "p"), 1);
	assert_int_equal(count_rule(f, "any"), 0);	/* empty category does not fit */
	assert_int_equal(count_rule(f, "none"), 1);
	clear_seen(f);
	rec_start(f, "linux", "", "sudo", 0);
	rec_field(f, "user", "root");
	run(f);
	assert_int_equal(count_rule(f, "p"), 0);
	assert_int_equal(count_rule(f, "none"), 1);
}

static void
matched_fields_are_reported(void **state)
{
	struct fixture *f = *state;

	load(f, WEB_RULE("m", "  sel:\n    cs-method: POST\n    cs-uri-stem|endswith: '.php'\n"
		"  condition: sel\n"));
	rec_start(f, "", "webserver", "", 0);
	rec_field(f, "cs-method", "POST");
	rec_field(f, "cs-uri-stem", "/shell.php");
	run(f);
	assert_int_equal(f->nseen, 1);
	assert_string_equal(f->seen[0].matched, "cs-method=POST\ncs-uri-stem=/shell.php");
	assert_int_equal(f->seen[0].count, 1);
	clear_seen(f);
	/* A long value is cut: matched stays within 1 KiB. */
	{
		char *v = xmalloc(5001);

		memset(v, 'x', 4996);
		memcpy(v + 4996, ".php", 5);
		rec_start(f, "", "webserver", "", 0);
		rec_field(f, "cs-method", "POST");
		rec_field(f, "cs-uri-stem", v);
		run(f);
		assert_int_equal(f->nseen, 1);
		assert_int_equal(strlen(f->seen[0].matched), 1023);
		free(v);
	}
}

static void
suppression_counts(void **state)
{
	struct fixture *f = *state;
	const struct seen *s;

	load_opts(f, WEB_RULE("sup", "  sel:\n    cs-uri-query|contains: 'select'\n  condition: sel\n"),
		60 * NS);
	/* 5 hits from one address within 60 s, 2 from another. */
	for (int i = 0; i < 7; i++) {
		rec_start(f, "", "webserver", "", (1000 + i) * NS);
		rec_field(f, "c-ip", i < 5 ? "1.1.1.1" : "2.2.2.2");
		rec_field(f, "cs-uri-query", "select");
		run(f);
	}
	assert_int_equal(f->nseen, 2);
	assert_string_equal(f->seen[0].group, "1.1.1.1");
	assert_string_equal(f->seen[1].group, "2.2.2.2");
	clear_seen(f);
	/* After the window: the next match carries the 4 held back. */
	rec_start(f, "", "webserver", "", 1100 * NS);
	rec_field(f, "c-ip", "1.1.1.1");
	rec_field(f, "cs-uri-query", "select");
	run(f);
	assert_int_equal(f->nseen, 1);
	assert_int_equal(f->seen[0].count, 5);
	assert_int_equal(f->seen[0].first_ns, 1001 * NS);
	assert_int_equal(f->seen[0].last_ns, 1100 * NS);
	clear_seen(f);
	/* The flush reports what 2.2.2.2 holds (1). */
	detector_flush(f->d, on_alert, f);
	assert_int_equal(f->nseen, 1);
	s = find_rule(f, "sup");
	assert_non_null(s);
	assert_string_equal(s->group, "2.2.2.2");
	assert_int_equal(s->count, 1);
	assert_false(s->has_record);
	clear_seen(f);
	detector_flush(f->d, on_alert, f);
	assert_int_equal(f->nseen, 0);
}

/* A long-running detector (the centre) reports ended windows by time, without
 * waiting for the next match or the end of input. */
static void
expire_ended_windows(void **state)
{
	struct fixture *f = *state;

	load_opts(f, WEB_RULE("sup", "  sel:\n    cs-uri-query|contains: 'select'\n  condition: sel\n"),
		60 * NS);
	for (int i = 0; i < 5; i++) {
		rec_start(f, "", "webserver", "", (1000 + i) * NS);
		rec_field(f, "c-ip", "1.1.1.1");
		rec_field(f, "cs-uri-query", "select");
		run(f);
	}
	assert_int_equal(f->nseen, 1);
	assert_false(f->seen[0].continued);
	clear_seen(f);
	/* Still inside the window: nothing yet. */
	detector_expire(f->d, 1030 * NS, on_alert, f);
	assert_int_equal(f->nseen, 0);
	/* Ended: the 4 held back, once, as a continuation. */
	detector_expire(f->d, 1061 * NS, on_alert, f);
	assert_int_equal(f->nseen, 1);
	assert_true(f->seen[0].continued);
	assert_int_equal(f->seen[0].count, 4);
	assert_string_equal(f->seen[0].group, "1.1.1.1");
	clear_seen(f);
	detector_expire(f->d, 2000 * NS, on_alert, f);
	assert_int_equal(f->nseen, 0);
}

#define SSH_FAIL_RULE \
	"title: ssh fail\nid: ssh-fail\nname: ssh_fail\nlogsource:\n  product: linux\n" \
	"  service: sshd\ndetection:\n  sel:\n    event: failed\n  condition: sel\n"

static void
ssh_fail(struct fixture *f, const char *ip, const char *user, int64_t t)
{
	rec_start(f, "linux", "", "sshd", t);
	rec_field(f, "event", "failed");
	rec_field(f, "src_ip", ip);
	rec_field(f, "user", user);
	run(f);
}

static void
event_count_per_address(void **state)
{
	struct fixture *f = *state;
	size_t ncorr = 0;

	load(f, SSH_FAIL_RULE "---\ntitle: brute force\nid: brute\nlevel: high\ncorrelation:\n"
		"  type: event_count\n  rules:\n    - ssh_fail\n  group-by:\n    - src_ip\n"
		"  timespan: 60s\n  condition:\n    gte: 10\n");
	detector_counts(f->d, NULL, &ncorr);
	assert_int_equal(ncorr, 1);
	/* 9 from A and 9 from B within 60 s: nothing (and generate: false
	 * keeps ssh-fail quiet). */
	for (int i = 0; i < 9; i++) {
		ssh_fail(f, "10.0.0.1", "root", (100 + i) * NS);
		ssh_fail(f, "10.0.0.2", "root", (100 + i) * NS);
	}
	assert_int_equal(f->nseen, 0);
	/* The tenth from A: one alert for A. */
	ssh_fail(f, "10.0.0.1", "root", 110 * NS);
	assert_int_equal(f->nseen, 1);
	assert_true(f->seen[0].correlation);
	assert_string_equal(f->seen[0].rule_id, "brute");
	assert_string_equal(f->seen[0].group, "src_ip=10.0.0.1");
	assert_int_equal(f->seen[0].count, 10);
	assert_int_equal(f->seen[0].first_ns, 100 * NS);
	assert_int_equal(f->seen[0].last_ns, 110 * NS);
	clear_seen(f);
	/* One attack, one alert: 20 more from A within a timespan of each
	 * other are folded, not alerted again... */
	for (int i = 0; i < 20; i++)
		ssh_fail(f, "10.0.0.1", "root", (111 + i) * NS);
	assert_int_equal(f->nseen, 0);
	/* B's tenth comes 100 s after its first: the window slid, nothing. */
	ssh_fail(f, "10.0.0.2", "root", 200 * NS);
	assert_int_equal(f->nseen, 0);
	/* ...and reported with their count when the input ends. */
	detector_flush(f->d, on_alert, f);
	assert_int_equal(f->nseen, 1);
	assert_string_equal(f->seen[0].rule_id, "brute");
	assert_string_equal(f->seen[0].group, "src_ip=10.0.0.1");
	assert_int_equal(f->seen[0].count, 20);
	assert_int_equal(f->seen[0].first_ns, 111 * NS);
	assert_int_equal(f->seen[0].last_ns, 130 * NS);
	clear_seen(f);
	/* A quiet for longer than the timespan: a new attack alerts again. */
	for (int i = 0; i < 10; i++)
		ssh_fail(f, "10.0.0.1", "root", (300 + i) * NS);
	assert_int_equal(f->nseen, 1);
	assert_int_equal(f->seen[0].count, 10);
}

static void
value_count_spraying(void **state)
{
	struct fixture *f = *state;
	char user[32];

	load(f, SSH_FAIL_RULE "---\ntitle: spraying\nid: spray\nlevel: high\ngenerate: true\n"
		"correlation:\n  type: value_count\n  rules:\n    - ssh-fail\n  group-by:\n"
		"    - src_ip\n  timespan: 5m\n  condition:\n    gte: 5\n    field: user\n");
	/* The same user many times: not spraying. generate: true lets the
	 * rule alert on its own too. */
	for (int i = 0; i < 8; i++)
		ssh_fail(f, "10.0.0.9", "root", (10 + i) * NS);
	assert_int_equal(count_rule(f, "ssh-fail"), 8);
	assert_int_equal(count_rule(f, "spray"), 0);
	clear_seen(f);
	for (int i = 0; i < 4; i++) {
		snprintf(user, sizeof(user), "user%d", i);
		ssh_fail(f, "10.0.0.9", user, (20 + i) * NS);
	}
	assert_int_equal(count_rule(f, "spray"), 1);	/* root + 4 others */
	assert_int_equal(find_rule(f, "spray")->count, 5);
	assert_string_equal(find_rule(f, "spray")->group, "src_ip=10.0.0.9");
	clear_seen(f);
	/* Four distinct users from another address: not enough. */
	for (int i = 0; i < 4; i++) {
		snprintf(user, sizeof(user), "u%d", i);
		ssh_fail(f, "10.0.0.10", user, (30 + i) * NS);
	}
	assert_int_equal(count_rule(f, "spray"), 0);
}

static void
temporal_correlation(void **state)
{
	struct fixture *f = *state;

	load(f, SSH_FAIL_RULE "---\ntitle: ok\nid: ssh-ok\nname: ssh_ok\nlogsource:\n"
		"  product: linux\ndetection:\n  sel:\n    event: accepted\n  condition: sel\n"
		"---\ntitle: fail then success\nid: temporal\nlevel: critical\ncorrelation:\n"
		"  type: temporal\n  rules:\n    - ssh_fail\n    - ssh_ok\n  group-by:\n    - src_ip\n"
		"  timespan: 30s\n");
	ssh_fail(f, "10.0.0.1", "root", 100 * NS);
	/* Success from another address: nothing. */
	rec_start(f, "linux", "", "sshd", 101 * NS);
	rec_field(f, "event", "accepted");
	rec_field(f, "src_ip", "10.0.0.2");
	run(f);
	assert_int_equal(f->nseen, 0);
	/* Success from the same address 40 s later: outside the timespan. */
	rec_start(f, "linux", "", "sshd", 140 * NS);
	rec_field(f, "event", "accepted");
	rec_field(f, "src_ip", "10.0.0.1");
	run(f);
	assert_int_equal(f->nseen, 0);
	/* A failure 5 s after that success: both within 30 s. */
	ssh_fail(f, "10.0.0.1", "root", 145 * NS);
	assert_int_equal(f->nseen, 1);
	assert_string_equal(f->seen[0].rule_id, "temporal");
	assert_string_equal(f->seen[0].group, "src_ip=10.0.0.1");
	assert_int_equal(f->seen[0].first_ns, 140 * NS);
}

static void
event_count_below_is_judged_when_the_window_ends(void **state)
{
	struct fixture *f = *state;

	load(f, SSH_FAIL_RULE "---\ntitle: few\nid: few\ncorrelation:\n  type: event_count\n"
		"  rules:\n    - ssh_fail\n  group-by:\n    - src_ip\n  timespan: 60s\n"
		"  condition:\n    lte: 2\n");
	ssh_fail(f, "10.0.0.1", "a", 100 * NS);
	ssh_fail(f, "10.0.0.1", "a", 110 * NS);
	for (int i = 0; i < 3; i++)
		ssh_fail(f, "10.0.0.2", "a", (100 + i) * NS);
	assert_int_equal(f->nseen, 0);
	/* 10.0.0.1's window ends: 2 <= 2. 10.0.0.2 had 3: nothing. */
	ssh_fail(f, "10.0.0.1", "a", 200 * NS);
	ssh_fail(f, "10.0.0.2", "a", 200 * NS);
	assert_int_equal(f->nseen, 1);
	assert_string_equal(f->seen[0].group, "src_ip=10.0.0.1");
	assert_int_equal(f->seen[0].count, 2);
	assert_int_equal(f->seen[0].first_ns, 100 * NS);
	assert_int_equal(f->seen[0].last_ns, 110 * NS);
	clear_seen(f);
	/* At the end, both open windows (1 event each) hold. */
	detector_flush(f->d, on_alert, f);
	assert_int_equal(f->nseen, 2);
	assert_false(f->seen[0].has_record);
	assert_int_equal(f->seen[0].count, 1);
}

static void
correlation_of_unknown_rule_is_reported(void **state)
{
	struct fixture *f = *state;
	size_t ncorr = 9;

	load(f, SSH_FAIL_RULE "---\ntitle: x\nid: corr-x\ncorrelation:\n  type: event_count\n"
		"  rules:\n    - nothing_here\n  timespan: 1m\n  condition:\n    gte: 2\n");
	assert_non_null(strstr(f->errors.data, "corr-x"));
	assert_non_null(strstr(f->errors.data, "nothing_here"));
	detector_counts(f->d, NULL, &ncorr);
	assert_int_equal(ncorr, 0);
}

static void
untimed_records_use_a_counter(void **state)
{
	struct fixture *f = *state;

	/* Without times, the window slides over a record counter. */
	load(f, SSH_FAIL_RULE "---\ntitle: c\nid: c\ncorrelation:\n  type: event_count\n"
		"  rules:\n    - ssh_fail\n  timespan: 1m\n  condition:\n    gte: 3\n");
	for (int i = 0; i < 2; i++)
		ssh_fail(f, "1.1.1.1", "a", 0);
	assert_int_equal(f->nseen, 0);
	ssh_fail(f, "1.1.1.1", "a", 0);
	assert_int_equal(count_rule(f, "c"), 1);
	assert_int_equal(f->seen[0].count, 3);
}

static void
lru_map_evicts_oldest(void **state)
{
	struct lru_map *m = lru_map_new(3, sizeof(int), NULL);
	bool created;
	int *p;

	(void)state;
	for (int i = 0; i < 3; i++) {
		char k[2] = { (char)('a' + i), 0 };

		p = lru_map_get(m, 0, k, 1, NULL, NULL, &created);
		assert_true(created);
		*p = i;
	}
	p = lru_map_get(m, 0, "a", 1, NULL, NULL, &created);	/* a is the newest now */
	assert_false(created);
	assert_int_equal(*p, 0);
	p = lru_map_get(m, 0, "d", 1, NULL, NULL, &created);	/* evicts b */
	assert_true(created);
	assert_int_equal(lru_map_size(m), 3);
	p = lru_map_get(m, 0, "b", 1, NULL, NULL, &created);
	assert_true(created);
	p = lru_map_get(m, 1, "a", 1, NULL, NULL, &created);	/* another owner */
	assert_true(created);
	lru_map_free(m);
}

static void
pcre_limit_counts_as_no_match(void **state)
{
	struct pcre_re *re = NULL;
	char *err = NULL;
	char v[10001];

	(void)state;
	memset(v, 'a', sizeof(v) - 2);
	v[sizeof(v) - 2] = 'b';
	v[sizeof(v) - 1] = '\0';
	assert_int_equal(pcre_re_compile("(a+)+$", 6, 0, &re, NULL), 0);
	assert_false(pcre_re_match(re, v, strlen(v)));
	assert_int_equal(pcre_re_limit_hits(re), 1);
	assert_true(pcre_re_match(re, "aab", 2));
	pcre_re_free(re);
	assert_int_equal(pcre_re_compile("(a", 2, 0, &re, &err), -EINVAL);
	assert_non_null(err);
	free(err);
}

static void
thousand_rules_compile(void **state)
{
	struct fixture *f = *state;
	struct buf y;
	struct timespec t0, t1;
	size_t nrules = 0;
	char v[64];

	buf_init(&y, 0);
	for (int i = 0; i < 1000; i++) {
		if (i > 0)
			buf_puts(&y, "---\n");
		buf_appendf(&y, "title: r%d\nid: r%d\nlogsource:\n  category: webserver\ndetection:\n"
			"  sel:\n    cs-uri-query|contains: 'attack%dpayload'\n"
			"    cs-user-agent|re: 'agent%d/[0-9]+'\n  filter:\n    c-ip|cidr: '10.%d.0.0/16'\n"
			"  condition: sel and not filter\n", i, i, i, i, i % 256);
	}
	assert_int_equal(sigma_load_text(&f->rs, "many.yml", y.data, y.len), 0);
	buf_release(&y);
	assert_int_equal(f->rs.nrules, 1000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(detector_build(&f->rs, NULL, &f->d, &f->errors), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("1000 rules (2000 Hyperscan patterns) compiled in %.3f s\n",
		(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	detector_counts(f->d, &nrules, NULL);
	assert_int_equal(nrules, 1000);
	assert_string_equal(f->errors.data, "");
	rec_start(f, "", "webserver", "", 0);
	rec_field(f, "cs-uri-query", "q=attack777payload");
	snprintf(v, sizeof(v), "agent777/2");
	rec_field(f, "cs-user-agent", v);
	rec_field(f, "c-ip", "1.2.3.4");
	run(f);
	assert_int_equal(f->nseen, 1);
	assert_string_equal(f->seen[0].rule_id, "r777");
}

static void
shared_sigma_rules(void **state)
{
	static const char *const dirs[] = { "/work/shared/sigma/rules/linux",
		"/work/shared/sigma/rules/web" };
	struct fixture *f = *state;
	size_t nrules = 0, nerr = 0;

	for (size_t i = 0; i < 2; i++) {
		if (access(dirs[i], R_OK) != 0) {
			print_message("%s absent: skipped\n", dirs[i]);
			return;
		}
		assert_int_equal(sigma_load_dir(&f->rs, dirs[i]), 0);
	}
	assert_int_equal(detector_build(&f->rs, NULL, &f->d, &f->errors), 0);
	detector_counts(f->d, &nrules, NULL);
	for (const char *p = f->errors.data; *p; p++)
		nerr += *p == '\n';
	print_message("shared rules: %zu parsed, %zu refused by the parser, %zu in use, "
		"%zu refused by the detector\n", f->rs.nrules, f->rs.nerrors, nrules, nerr);
	if (nerr > 0)
		print_message("%s", f->errors.data);
	assert_true(nrules > 0);
	assert_true(nrules + nerr == f->rs.nrules);
	/* An ordinary web line runs through every rule. */
	rec_start(f, "linux", "webserver", "nginx", 0);
	rec_field(f, "cs-method", "GET");
	rec_field(f, "cs-uri-stem", "/index.html");
	rec_field(f, "c-ip", "1.2.3.4");
	rec_raw(f, "1.2.3.4 - - [22/Nov/2026:06:00:00 +0000] \"GET /index.html HTTP/1.1\" 200 5");
	run(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(equals_with_wildcards, setup, teardown),
		cmocka_unit_test_setup_teardown(contains_startswith_endswith, setup, teardown),
		cmocka_unit_test_setup_teardown(all_modifier, setup, teardown),
		cmocka_unit_test_setup_teardown(re_with_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(re_refused_by_hyperscan_runs_on_pcre2, setup, teardown),
		cmocka_unit_test_setup_teardown(regex_both_refuse_drops_the_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(catastrophic_regex_finishes, setup, teardown),
		cmocka_unit_test_setup_teardown(cidr_v4_v6, setup, teardown),
		cmocka_unit_test_setup_teardown(exists_and_null, setup, teardown),
		cmocka_unit_test_setup_teardown(cased_modifier, setup, teardown),
		cmocka_unit_test_setup_teardown(condition_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(common_and_rare_parts, setup, teardown),
		cmocka_unit_test_setup_teardown(keyword_lists, setup, teardown),
		cmocka_unit_test_setup_teardown(logsource_filtering, setup, teardown),
		cmocka_unit_test_setup_teardown(matched_fields_are_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(suppression_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(expire_ended_windows, setup, teardown),
		cmocka_unit_test_setup_teardown(event_count_per_address, setup, teardown),
		cmocka_unit_test_setup_teardown(value_count_spraying, setup, teardown),
		cmocka_unit_test_setup_teardown(temporal_correlation, setup, teardown),
		cmocka_unit_test_setup_teardown(event_count_below_is_judged_when_the_window_ends, setup,
			teardown),
		cmocka_unit_test_setup_teardown(correlation_of_unknown_rule_is_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(untimed_records_use_a_counter, setup, teardown),
		cmocka_unit_test(lru_map_evicts_oldest),
		cmocka_unit_test(pcre_limit_counts_as_no_match),
		cmocka_unit_test_setup_teardown(thousand_rules_compile, setup, teardown),
		cmocka_unit_test_setup_teardown(shared_sigma_rules, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
