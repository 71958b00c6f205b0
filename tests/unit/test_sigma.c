/* test_sigma.c - Sigma rule files into the rule model: every modifier, every
 * condition form, every correlation type, keyword lists and lists of maps;
 * and the bad input of issue 4 that concerns rules (malformed YAML, unknown
 * modifiers, conditions that reference nothing, binary garbage, invalid
 * UTF-8, 10,000 rules in a directory), each refused with a clear reason while
 * the other rules load. Also loads the real SigmaHQ rules in shared/ when
 * they are there. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/xalloc.h"
#include "detect/sigma/rule.h"
#include "core/banned.h"

/* --- helpers ------------------------------------------------------------------ */

static void
load(struct sigma_ruleset *rs, const char *text)
{
	size_t len = strlen(text);
	char *p = xmalloc(len ? len : 1); /* exactly len bytes: ASan sees an over-read */

	memcpy(p, text, len);
	memset(rs, 0, sizeof(*rs));
	assert_int_equal(sigma_load_text(rs, "t/rule.yml", p, len), 0);
	free(p);
}

/* A rule with one selection "sel" of the given body and "condition: sel". */
static void
load_sel(struct sigma_ruleset *rs, const char *sel_body)
{
	struct buf b;

	buf_init(&b, 0);
	buf_appendf(&b,
		    "title: t\nlogsource:\n    product: linux\ndetection:\n    sel:\n%s"
		    "    condition: sel\n",
		    sel_body);
	load(rs, b.data);
	buf_release(&b);
}

static void
print_errors(const struct sigma_ruleset *rs)
{
	for (size_t i = 0; i < rs->nerrors; i++)
		print_message("  %s:%u: %s\n", rs->errors[i].path, rs->errors[i].line,
			      rs->errors[i].message);
}

static const struct sigma_rule *
only_rule(const struct sigma_ruleset *rs)
{
	if (rs->nrules != 1 || rs->nerrors != 0)
		print_errors(rs);
	assert_int_equal(rs->nerrors, 0);
	assert_int_equal(rs->nrules, 1);
	return rs->rules[0];
}

/* The first test of the first map of the first selection. */
static const struct sigma_field_test *
first_test(const struct sigma_ruleset *rs)
{
	const struct sigma_rule *r = only_rule(rs);

	assert_true(r->nsels >= 1);
	assert_true(r->sels[0].nmaps >= 1);
	assert_true(r->sels[0].maps[0].ntests >= 1);
	return &r->sels[0].maps[0].tests[0];
}

static bool
has_value(const struct sigma_field_test *t, const char *text)
{
	for (size_t i = 0; i < t->nvalues; i++)
		if (t->values[i].text != NULL && strcmp(t->values[i].text, text) == 0 &&
		    t->values[i].len == strlen(text))
			return true;
	return false;
}

/* The only error, which must mention what. */
static void
assert_refused(const struct sigma_ruleset *rs, const char *what)
{
	if (rs->nerrors != 1 || strstr(rs->errors[0].message, what) == NULL) {
		print_message("expected one error mentioning \"%s\"\n", what);
		print_errors(rs);
	}
	assert_int_equal(rs->nrules, 0);
	assert_int_equal(rs->nerrors, 1);
	assert_non_null(strstr(rs->errors[0].message, what));
	assert_string_equal(rs->errors[0].path, "t/rule.yml");
}

/* --- the rule's own fields -------------------------------------------------------- */

static void
reads_metadata_and_lowercases_logsource(void **state)
{
	struct sigma_ruleset rs;
	const struct sigma_rule *r;

	(void)state;
	load(&rs, "title: Suspicious sudo\n"
		  "id: 0f06a3a5-6a09-413f-8743-e6cf35561297\n"
		  "name: susp_sudo\n"
		  "status: test\n"
		  "description: a sudo to root\n"
		  "level: high\n"
		  "tags:\n  - attack.privilege_escalation\n  - attack.t1548\n"
		  "logsource:\n  product: Linux\n  service: SUDO\n"
		  "detection:\n  sel:\n    USER: root\n  condition: sel\n");
	r = only_rule(&rs);
	assert_string_equal(r->title, "Suspicious sudo");
	assert_string_equal(r->id, "0f06a3a5-6a09-413f-8743-e6cf35561297");
	assert_string_equal(r->name, "susp_sudo");
	assert_string_equal(r->status, "test");
	assert_string_equal(r->description, "a sudo to root");
	assert_int_equal(r->level, SIGMA_HIGH);
	assert_int_equal(r->ntags, 2);
	assert_string_equal(r->tags[1], "attack.t1548");
	assert_string_equal(r->logsource.product, "linux");
	assert_string_equal(r->logsource.service, "sudo");
	assert_null(r->logsource.category);
	assert_string_equal(r->path, "t/rule.yml");
	assert_int_equal(r->line, 1);
	assert_string_equal(sigma_level_name(r->level), "high");
	sigma_ruleset_release(&rs);
}

static void
defaults_id_to_file_name_and_level_to_medium(void **state)
{
	struct sigma_ruleset rs;
	const struct sigma_rule *r;

	(void)state;
	load(&rs,
	     "title: one\nlogsource: {product: linux}\ndetection: {s: {a: b}, condition: s}\n"
	     "---\n"
	     "title: two\nlogsource: {product: linux}\ndetection: {s: {a: b}, condition: s}\n");
	assert_int_equal(rs.nerrors, 0);
	assert_int_equal(rs.nrules, 2);
	r = rs.rules[0];
	assert_string_equal(r->id, "rule.yml");
	assert_int_equal(r->level, SIGMA_MEDIUM);
	assert_string_equal(rs.rules[1]->id, "rule.yml#2");
	assert_int_equal(rs.rules[1]->line, 4);
	sigma_ruleset_release(&rs);
}

/* --- values and modifiers ---------------------------------------------------------- */

static void
plain_values_strings_numbers_booleans(void **state)
{
	struct sigma_ruleset rs;
	const struct sigma_field_test *t;
	const struct sigma_rule *r;

	(void)state;
	load_sel(&rs, "        Image: /usr/bin/curl\n"
		      "        EventID: 4688\n"
		      "        Enabled: true\n"
		      "        Cmd: 'a\\*b'\n"
		      "        Path: '*/tmp/*'\n");
	r = only_rule(&rs);
	assert_int_equal(r->sels[0].maps[0].ntests, 5);
	t = r->sels[0].maps[0].tests;
	assert_string_equal(t[0].field, "Image");
	assert_int_equal(t[0].nvalues, 1);
	assert_int_equal(t[0].values[0].op, SIGMA_EQUALS);
	assert_string_equal(t[0].values[0].text, "/usr/bin/curl");
	assert_false(t[0].values[0].wildcards);
	assert_false(t[0].values[0].cased);
	assert_false(t[0].all);
	assert_string_equal(t[1].values[0].text, "4688");
	assert_string_equal(t[2].values[0].text, "true");
	/* An escaped star is no wildcard, and the escape stays for the compiler. */
	assert_string_equal(t[3].values[0].text, "a\\*b");
	assert_false(t[3].values[0].wildcards);
	assert_true(t[4].values[0].wildcards);
	assert_int_equal(t[4].values[0].op, SIGMA_EQUALS);
	sigma_ruleset_release(&rs);
}

static void
modifier_contains_startswith_endswith(void **state)
{
	struct sigma_ruleset rs;
	const struct sigma_field_test *t;

	(void)state;
	load_sel(&rs, "        a|contains: x\n        b|startswith: y?\n        c|endswith:\n"
		      "            - .php\n            - .jsp\n");
	t = first_test(&rs);
	assert_int_equal(t[0].values[0].op, SIGMA_CONTAINS);
	assert_string_equal(t[0].values[0].text, "x");
	assert_int_equal(t[1].values[0].op, SIGMA_STARTSWITH);
	assert_true(t[1].values[0].wildcards);
	assert_int_equal(t[2].values[0].op, SIGMA_ENDSWITH);
	assert_int_equal(t[2].nvalues, 2);
	assert_string_equal(t[2].values[1].text, ".jsp");
	sigma_ruleset_release(&rs);
}

static void
modifier_all(void **state)
{
	struct sigma_ruleset rs;
	const struct sigma_field_test *t;

	(void)state;
	load_sel(
		&rs,
		"        CommandLine|contains|all:\n            - ' -e '\n            - /bin/sh\n");
	t = first_test(&rs);
	assert_true(t->all);
	assert_int_equal(t->nvalues, 2);
	assert_int_equal(t->values[0].op, SIGMA_CONTAINS);
	assert_string_equal(t->values[0].text, " -e ");
	sigma_ruleset_release(&rs);
}

static void
modifier_re_with_flags(void **state)
{
	struct sigma_ruleset rs;
	const struct sigma_field_test *t;

	(void)state;
	load_sel(&rs, "        a|re: '^/(etc|tmp)/.*\\.sh$'\n        b|re|i|m|s: 'x*y?'\n");
	t = first_test(&rs);
	assert_int_equal(t[0].values[0].op, SIGMA_RE);
	assert_string_equal(t[0].values[0].text, "^/(etc|tmp)/.*\\.sh$");
	assert_int_equal(t[0].values[0].re_flags, 0);
	assert_false(t[0].values[0].wildcards); /* a regex has no Sigma wildcards */
	assert_int_equal(t[1].values[0].re_flags, SIGMA_RE_I | SIGMA_RE_M | SIGMA_RE_S);
	assert_false(t[1].values[0].wildcards);
	sigma_ruleset_release(&rs);
}

static void
modifier_cidr(void **state)
{
	struct sigma_ruleset rs;
	const struct sigma_field_test *t;

	(void)state;
	load_sel(&rs, "        c-ip|cidr:\n            - 10.0.0.0/8\n            - 'fe80::/10'\n"
		      "            - 192.168.1.7\n");
	t = first_test(&rs);
	assert_int_equal(t->nvalues, 3);
	assert_int_equal(t->values[0].op, SIGMA_CIDR);
	assert_string_equal(t->values[1].text, "fe80::/10");
	sigma_ruleset_release(&rs);

	load_sel(&rs, "        c-ip|cidr: 10.0.0.0/33\n");
	assert_refused(&rs, "is not a network");
	sigma_ruleset_release(&rs);
}

static void
modifier_base64(void **state)
{
	struct sigma_ruleset rs;
	const struct sigma_field_test *t;

	(void)state;
	/* base64("/bin/bash") = "L2Jpbi9iYXNo" (python3 -c 'import base64;
	 * print(base64.b64encode(b"/bin/bash"))'). */
	load_sel(&rs, "        a|base64: /bin/bash\n        b|base64|contains: /bin/bash\n");
	t = first_test(&rs);
	assert_int_equal(t[0].nvalues, 1);
	assert_int_equal(t[0].values[0].op, SIGMA_EQUALS);
	assert_string_equal(t[0].values[0].text, "L2Jpbi9iYXNo");
	assert_int_equal(t[1].values[0].op, SIGMA_CONTAINS);
	assert_string_equal(t[1].values[0].text, "L2Jpbi9iYXNo");
	sigma_ruleset_release(&rs);
}

static void
modifier_base64offset(void **state)
{
	struct sigma_ruleset rs;
	const struct sigma_field_test *t;

	(void)state;
	/* The three encodings of "/bin/bash" as the Sigma modifier docs list them
	 * (and as pySigma's SigmaBase64OffsetModifier computes: b64encode(i * b' '
	 * + val)[(0, 2, 3)[i]:(None, -3, -2)[(len(val) + i) % 3]], checked with
	 * python3). "ping" (4 bytes) exercises the other cut lengths. */
	load_sel(&rs, "        a|base64offset|contains: /bin/bash\n"
		      "        b|base64offset|contains: ping\n");
	t = first_test(&rs);
	assert_int_equal(t[0].nvalues, 3);
	assert_true(has_value(&t[0], "L2Jpbi9iYXNo"));
	assert_true(has_value(&t[0], "9iaW4vYmFza"));
	assert_true(has_value(&t[0], "vYmluL2Jhc2"));
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(t[0].values[i].op, SIGMA_CONTAINS);
		assert_false(t[0].values[i].wildcards);
	}
	assert_int_equal(t[1].nvalues, 3);
	assert_true(has_value(&t[1], "cGluZ"));
	assert_true(has_value(&t[1], "Bpbm"));
	assert_true(has_value(&t[1], "waW5n"));
	sigma_ruleset_release(&rs);
}

static void
modifier_windash(void **state)
{
	static const char *const want[] = {
		"net user -add",
		"net user /add",
		"net user \xe2\x80\x93"
		"add",
		"net user \xe2\x80\x94"
		"add",
		"net user \xe2\x80\x95"
		"add",
	};
	struct sigma_ruleset rs;
	const struct sigma_field_test *t;

	(void)state;
	load_sel(&rs, "        CommandLine|windash|contains: 'net user -add'\n"
		      "        b|windash: '-a -b x-y'\n");
	t = first_test(&rs);
	assert_int_equal(t[0].nvalues, 5);
	for (size_t i = 0; i < 5; i++)
		assert_true(has_value(&t[0], want[i]));
	assert_int_equal(t[0].values[0].op, SIGMA_CONTAINS);
	/* Two dashes that start words: 5 x 5; the one inside "x-y" stays. */
	assert_int_equal(t[1].nvalues, 25);
	assert_true(has_value(&t[1], "/a -b x-y"));
	assert_true(has_value(&t[1], "-a \xe2\x80\x95"
				     "b x-y"));
	assert_int_equal(t[1].values[0].op, SIGMA_EQUALS);
	sigma_ruleset_release(&rs);
}

static void
modifier_windash_bounded(void **state)
{
	struct sigma_ruleset rs;

	(void)state;
	load_sel(&rs, "        a|windash: '-a -b -c -d -e -f -g'\n");
	assert_refused(&rs, "too many values after windash expansion");
	sigma_ruleset_release(&rs);
}

static void
values_bounded_per_rule(void **state)
{
	struct sigma_ruleset rs;
	struct buf b;

	(void)state;
	/* 200 fields x 625 windash variants: over the 100,000 values a rule may hold. */
	buf_init(&b, 0);
	for (int i = 0; i < 200; i++)
		buf_appendf(&b, "        f%d|windash: '-a -b -c -d'\n", i);
	load_sel(&rs, b.data);
	assert_refused(&rs, "too many values");
	sigma_ruleset_release(&rs);
	buf_release(&b);
}

static void
modifier_exists(void **state)
{
	struct sigma_ruleset rs;
	const struct sigma_field_test *t;

	(void)state;
	load_sel(&rs, "        a|exists: true\n        b|exists: false\n");
	t = first_test(&rs);
	assert_int_equal(t[0].values[0].op, SIGMA_EXISTS);
	assert_true(t[0].values[0].exists);
	assert_null(t[0].values[0].text);
	assert_false(t[1].values[0].exists);
	sigma_ruleset_release(&rs);

	load_sel(&rs, "        a|exists: maybe\n");
	assert_refused(&rs, "takes true or false");
	sigma_ruleset_release(&rs);
}

static void
modifier_cased(void **state)
{
	struct sigma_ruleset rs;
	const struct sigma_field_test *t;

	(void)state;
	load_sel(&rs, "        a|cased: Admin\n        b|contains|cased: Root\n        c: x\n");
	t = first_test(&rs);
	assert_true(t[0].values[0].cased);
	assert_int_equal(t[0].values[0].op, SIGMA_EQUALS);
	assert_true(t[1].values[0].cased);
	assert_int_equal(t[1].values[0].op, SIGMA_CONTAINS);
	assert_false(t[2].values[0].cased);
	sigma_ruleset_release(&rs);
}

static void
null_values(void **state)
{
	struct sigma_ruleset rs;
	const struct sigma_field_test *t;

	(void)state;
	load_sel(&rs,
		 "        a: null\n        b:\n        c: ~\n        d: 'null'\n        e: ''\n");
	t = first_test(&rs);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(t[i].values[0].op, SIGMA_NULL);
		assert_null(t[i].values[0].text);
	}
	/* Quoted, it is the word and the empty string. */
	assert_int_equal(t[3].values[0].op, SIGMA_EQUALS);
	assert_string_equal(t[3].values[0].text, "null");
	assert_int_equal(t[4].values[0].op, SIGMA_EQUALS);
	assert_string_equal(t[4].values[0].text, "");
	sigma_ruleset_release(&rs);
}

static void
unsupported_modifiers_refused_with_reason(void **state)
{
	static const char *const mods[] = {"expand", "wide", "utf16le", "utf16be",
					   "utf16",  "gt",   "lte"};
	struct sigma_ruleset rs;
	char body[128];

	(void)state;
	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		snprintf(body, sizeof(body), "        a|%s: x\n", mods[i]);
		load_sel(&rs, body);
		assert_refused(&rs, "is not supported");
		sigma_ruleset_release(&rs);
	}
}

static void
unknown_modifier_refused(void **state)
{
	struct sigma_ruleset rs;

	(void)state;
	load_sel(&rs, "        a|contains|frobnicate: x\n");
	assert_refused(&rs, "unknown modifier 'frobnicate'");
	assert_int_equal(rs.errors[0].line, 6); /* the key's line */
	sigma_ruleset_release(&rs);
	/* i/m/s are modifiers of re only. */
	load_sel(&rs, "        a|contains|i: x\n");
	assert_refused(&rs, "unknown modifier 'i'");
	sigma_ruleset_release(&rs);
}

static void
conflicting_modifiers_refused(void **state)
{
	struct sigma_ruleset rs;

	(void)state;
	load_sel(&rs, "        a|contains|startswith: x\n");
	assert_refused(&rs, "exclude each other");
	sigma_ruleset_release(&rs);
	load_sel(&rs, "        a|re|contains: x\n");
	assert_refused(&rs, "re");
	sigma_ruleset_release(&rs);
}

/* --- selections ----------------------------------------------------------------- */

static void
keyword_list(void **state)
{
	struct sigma_ruleset rs;
	const struct sigma_rule *r;
	const struct sigma_field_test *t;

	(void)state;
	load(&rs, "title: t\nlogsource: {product: linux}\ndetection:\n"
		  "  keywords:\n    - 'rm -rf /'\n    - '*wget *'\n    - 1337\n"
		  "  condition: keywords\n");
	r = only_rule(&rs);
	assert_string_equal(r->sels[0].name, "keywords");
	assert_int_equal(r->sels[0].nmaps, 1);
	assert_int_equal(r->sels[0].maps[0].ntests, 1);
	t = &r->sels[0].maps[0].tests[0];
	assert_null(t->field);
	assert_int_equal(t->nvalues, 3);
	assert_string_equal(t->values[0].text, "rm -rf /");
	assert_int_equal(t->values[0].op, SIGMA_CONTAINS);
	assert_true(t->values[1].wildcards);
	assert_string_equal(t->values[2].text, "1337");
	sigma_ruleset_release(&rs);
}

static void
keyword_list_under_another_name(void **state)
{
	struct sigma_ruleset rs;
	const struct sigma_rule *r;

	(void)state;
	load(&rs, "title: t\nlogsource: {product: linux}\ndetection:\n"
		  "  words: [a, b]\n  condition: words\n");
	r = only_rule(&rs);
	assert_null(r->sels[0].maps[0].tests[0].field);
	assert_int_equal(r->sels[0].maps[0].tests[0].nvalues, 2);
	sigma_ruleset_release(&rs);
}

static void
list_of_maps(void **state)
{
	struct sigma_ruleset rs;
	const struct sigma_rule *r;

	(void)state;
	load(&rs, "title: t\nlogsource: {product: linux}\ndetection:\n"
		  "  sel:\n    - a: 1\n      b: 2\n    - c|contains: 3\n"
		  "  condition: sel\n");
	r = only_rule(&rs);
	assert_int_equal(r->sels[0].nmaps, 2);
	assert_int_equal(r->sels[0].maps[0].ntests, 2);
	assert_string_equal(r->sels[0].maps[0].tests[1].field, "b");
	assert_int_equal(r->sels[0].maps[1].ntests, 1);
	assert_string_equal(r->sels[0].maps[1].tests[0].field, "c");
	assert_int_equal(r->sels[0].maps[1].tests[0].values[0].op, SIGMA_CONTAINS);
	sigma_ruleset_release(&rs);

	load(&rs, "title: t\nlogsource: {product: linux}\ndetection:\n"
		  "  sel:\n    - a: 1\n    - plain\n  condition: sel\n");
	assert_refused(&rs, "mixes maps and plain values");
	sigma_ruleset_release(&rs);
}

/* --- conditions ------------------------------------------------------------------- */

/* The condition tree as text, fully parenthesised, to compare with. */
static void
cond_text(const struct sigma_rule *r, unsigned n, struct buf *b)
{
	const struct sigma_cond *c = &r->cond_nodes[n];

	assert_true(n < r->ncond_nodes);
	switch (c->kind) {
	case SIGMA_COND_SEL:
		buf_puts(b, r->sels[c->sel].name);
		break;
	case SIGMA_COND_NOT:
		buf_puts(b, "not(");
		cond_text(r, c->a, b);
		buf_puts(b, ")");
		break;
	case SIGMA_COND_AND:
	case SIGMA_COND_OR:
		buf_puts(b, c->kind == SIGMA_COND_AND ? "and(" : "or(");
		cond_text(r, c->a, b);
		buf_puts(b, ",");
		cond_text(r, c->b, b);
		buf_puts(b, ")");
		break;
	case SIGMA_COND_OF:
		buf_appendf(b, "%u-of[", c->count);
		for (size_t i = 0; i < c->nsels; i++)
			buf_appendf(b, "%s%s", i ? "," : "", r->sels[c->sels[i]].name);
		buf_puts(b, "]");
		break;
	}
}

/* Parse condition over selections sel_a, sel_b, filter_1, filter_2, _hidden
 * and compare the tree with want; want NULL: the rule is refused with err. */
static void
check_condition(const char *cond, const char *want, const char *err)
{
	struct sigma_ruleset rs;
	struct buf b, t;

	buf_init(&t, 0);
	buf_appendf(&t,
		    "title: t\nlogsource: {product: linux}\ndetection:\n"
		    "  sel_a: {a: 1}\n  sel_b: {b: 2}\n  filter_1: {c: 3}\n  filter_2: {d: 4}\n"
		    "  _hidden: {e: 5}\n  condition: '%s'\n",
		    cond);
	load(&rs, t.data);
	buf_release(&t);
	if (want == NULL) {
		assert_refused(&rs, err);
		sigma_ruleset_release(&rs);
		return;
	}
	only_rule(&rs);
	assert_int_equal(rs.rules[0]->nconditions, 1);
	buf_init(&b, 0);
	cond_text(rs.rules[0], rs.rules[0]->conditions[0], &b);
	if (strcmp(b.data, want) != 0)
		print_message("condition '%s': got %s, want %s\n", cond, b.data, want);
	assert_string_equal(b.data, want);
	buf_release(&b);
	sigma_ruleset_release(&rs);
}

static void
condition_forms(void **state)
{
	(void)state;
	check_condition("sel_a", "sel_a", NULL);
	check_condition("sel_a and sel_b", "and(sel_a,sel_b)", NULL);
	check_condition("sel_a or sel_b", "or(sel_a,sel_b)", NULL);
	check_condition("not sel_a", "not(sel_a)", NULL);
	/* not binds tighter than and, and tighter than or. */
	check_condition("sel_a or sel_b and not filter_1", "or(sel_a,and(sel_b,not(filter_1)))",
			NULL);
	check_condition("not sel_a and sel_b", "and(not(sel_a),sel_b)", NULL);
	check_condition("(sel_a or sel_b) and not (filter_1 or filter_2)",
			"and(or(sel_a,sel_b),not(or(filter_1,filter_2)))", NULL);
	check_condition("SEL_A", NULL, "unknown selection 'SEL_A'");
	check_condition("sel_a AND NOT filter_1", "and(sel_a,not(filter_1))", NULL);
	check_condition("sel_a and sel_b or filter_1 and filter_2",
			"or(and(sel_a,sel_b),and(filter_1,filter_2))", NULL);
	check_condition("((sel_a))", "sel_a", NULL);
}

static void
condition_quantifiers(void **state)
{
	(void)state;
	check_condition("1 of sel_*", "1-of[sel_a,sel_b]", NULL);
	check_condition("any of sel_*", "1-of[sel_a,sel_b]", NULL);
	check_condition("all of sel_*", "0-of[sel_a,sel_b]", NULL);
	check_condition("1 of them", "1-of[sel_a,sel_b,filter_1,filter_2]", NULL);
	check_condition("all of them", "0-of[sel_a,sel_b,filter_1,filter_2]", NULL);
	check_condition("sel_a and not 1 of filter_?", "and(sel_a,not(1-of[filter_1,filter_2]))",
			NULL);
	check_condition("all of *_1", "0-of[filter_1]", NULL);
	check_condition("1 of _hid*", "1-of[_hidden]", NULL);
}

static void
condition_errors(void **state)
{
	(void)state;
	check_condition("sel_a and nothing", NULL,
			"condition references unknown selection 'nothing'");
	check_condition("1 of foo*", NULL, "'1 of foo*' matches no selection");
	check_condition("(sel_a or sel_b", NULL, "unbalanced parenthesis");
	check_condition("sel_a)", NULL, "unbalanced parenthesis");
	check_condition("sel_a sel_b", NULL, "unexpected 'sel_b' after the end of the condition");
	check_condition("sel_a and", NULL, "condition ends too early");
	check_condition("sel_*", NULL, "outside '1 of'");
	check_condition("sel_a | count() > 5", NULL, "aggregation");
	check_condition("", NULL, "empty condition");
	check_condition("1 of", NULL, "must be followed by");
	check_condition("2x of sel_*", NULL, "not a valid quantifier");
}

static void
condition_list_is_or(void **state)
{
	struct sigma_ruleset rs;
	const struct sigma_rule *r;

	(void)state;
	load(&rs, "title: t\nlogsource: {product: linux}\ndetection:\n"
		  "  a: {x: 1}\n  b: {y: 2}\n  condition:\n    - a\n    - b and not a\n");
	r = only_rule(&rs);
	assert_int_equal(r->nconditions, 2);
	assert_int_equal(r->cond_nodes[r->conditions[0]].kind, SIGMA_COND_SEL);
	assert_int_equal(r->cond_nodes[r->conditions[1]].kind, SIGMA_COND_AND);
	sigma_ruleset_release(&rs);
}

static void
condition_nested_too_deeply(void **state)
{
	struct buf c;

	(void)state;
	buf_init(&c, 0);
	for (int i = 0; i < 200; i++)
		buf_puts(&c, "(");
	buf_puts(&c, "sel_a");
	for (int i = 0; i < 200; i++)
		buf_puts(&c, ")");
	check_condition(c.data, NULL, "nested too deeply");
	buf_reset(&c);
	for (int i = 0; i < 5000; i++)
		buf_puts(&c, "not ");
	buf_puts(&c, "sel_a");
	check_condition(c.data, NULL, "nested too deeply");
	/* Flat but long: the node count is bounded too. */
	buf_reset(&c);
	for (int i = 0; i < 7000; i++)
		buf_puts(&c, "sel_a or ");
	buf_puts(&c, "sel_b");
	check_condition(c.data, NULL, "condition too long");
	buf_release(&c);
}

/* --- correlations ----------------------------------------------------------------- */

static void
correlation_event_count(void **state)
{
	struct sigma_ruleset rs;
	const struct sigma_correlation *c;

	(void)state;
	load(&rs, "title: failed ssh login\nname: ssh_failed\nlogsource: {product: linux, service: "
		  "sshd}\n"
		  "detection: {sel: {msg|contains: Failed password}, condition: sel}\n"
		  "---\n"
		  "title: ssh brute force\nid: 11111111-2222-3333-4444-555555555555\nlevel: high\n"
		  "correlation:\n  type: event_count\n  rules:\n    - ssh_failed\n"
		  "  group-by:\n    - src_ip\n  timespan: 60s\n  condition:\n    gte: 10\n"
		  "  generate: true\n");
	print_errors(&rs);
	assert_int_equal(rs.nerrors, 0);
	assert_int_equal(rs.nrules, 1);
	assert_int_equal(rs.ncorrs, 1);
	c = rs.corrs[0];
	assert_string_equal(c->title, "ssh brute force");
	assert_string_equal(c->id, "11111111-2222-3333-4444-555555555555");
	assert_int_equal(c->level, SIGMA_HIGH);
	assert_int_equal(c->type, SIGMA_EVENT_COUNT);
	assert_int_equal(c->nrules, 1);
	assert_string_equal(c->rules[0], "ssh_failed");
	assert_int_equal(c->ngroup_by, 1);
	assert_string_equal(c->group_by[0], "src_ip");
	assert_int_equal(c->timespan_ns, 60 * 1000000000LL);
	assert_int_equal(c->cmp, SIGMA_GTE);
	assert_int_equal(c->count, 10);
	assert_true(c->generate);
	assert_null(c->value_field);
	assert_int_equal(c->line, 5); /* its "---" */
	sigma_ruleset_release(&rs);
}

static void
correlation_value_count(void **state)
{
	struct sigma_ruleset rs;
	const struct sigma_correlation *c;

	(void)state;
	load(&rs,
	     "title: password spraying\n"
	     "correlation:\n  type: value_count\n  rules: ssh_failed\n"
	     "  group_by: [src_ip]\n  timespan: 5m\n  condition:\n    gt: 20\n    field: user\n");
	print_errors(&rs);
	assert_int_equal(rs.nerrors, 0);
	assert_int_equal(rs.ncorrs, 1);
	c = rs.corrs[0];
	assert_int_equal(c->type, SIGMA_VALUE_COUNT);
	assert_string_equal(c->rules[0], "ssh_failed");
	assert_string_equal(c->group_by[0], "src_ip");
	assert_int_equal(c->timespan_ns, 300 * 1000000000LL);
	assert_int_equal(c->cmp, SIGMA_GT);
	assert_int_equal(c->count, 20);
	assert_string_equal(c->value_field, "user");
	assert_false(c->generate);
	assert_string_equal(c->id, "rule.yml");
	assert_int_equal(c->level, SIGMA_MEDIUM);
	sigma_ruleset_release(&rs);

	load(&rs, "title: x\ncorrelation: {type: value_count, rules: [a], timespan: 1h, condition: "
		  "{gt: 2}}\n");
	assert_refused(&rs, "needs 'field'");
	sigma_ruleset_release(&rs);
}

static void
correlation_temporal(void **state)
{
	struct sigma_ruleset rs;
	const struct sigma_correlation *c;

	(void)state;
	load(&rs, "title: recon then exploit\nlevel: critical\n"
		  "correlation:\n  type: temporal\n  rules: [recon, exploit]\n"
		  "  group-by: [c-ip, host]\n  timespan: 1d\n");
	print_errors(&rs);
	assert_int_equal(rs.nerrors, 0);
	assert_int_equal(rs.ncorrs, 1);
	c = rs.corrs[0];
	assert_int_equal(c->type, SIGMA_TEMPORAL);
	assert_int_equal(c->nrules, 2);
	assert_string_equal(c->rules[1], "exploit");
	assert_int_equal(c->ngroup_by, 2);
	assert_int_equal(c->timespan_ns, 86400 * 1000000000LL);
	assert_int_equal(c->level, SIGMA_CRITICAL);
	sigma_ruleset_release(&rs);
}

static void
correlation_errors(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{"title: x\ncorrelation: {type: event_count, rules: [a], timespan: 1h}\n",
		 "no correlation condition"},
		{"title: x\ncorrelation: {type: event_count, rules: [a], timespan: soon, "
		 "condition: {gt: 1}}\n",
		 "timespan 'soon'"},
		{"title: x\ncorrelation: {type: event_count, rules: [a], condition: {gt: 1}}\n",
		 "no timespan"},
		{"title: x\ncorrelation: {type: event_count, timespan: 1m, condition: {gt: 1}}\n",
		 "names no rules"},
		{"title: x\ncorrelation: {type: sequence, rules: [a], timespan: 1m}\n",
		 "correlation type 'sequence' is not supported"},
		{"title: x\ncorrelation: {type: event_count, rules: [a], timespan: 1m, condition: "
		 "{gt: many}}\n",
		 "whole number"},
		{"title: x\ncorrelation: {type: event_count, rules: [a], timespan: 1m, condition: "
		 "{about: 3}}\n",
		 "unknown correlation condition 'about'"},
		{"title: x\ncorrelation: {type: temporal, rules: [a], timespan: 1m}\n",
		 "at least two rules"},
		{"title: x\ncorrelation: {type: temporal, rules: [a, b], timespan: 1m, aliases: "
		 "{ip: {a: x}}}\n",
		 "'aliases' are not supported"},
	};
	struct sigma_ruleset rs;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		load(&rs, cases[i].text);
		assert_refused(&rs, cases[i].err);
		sigma_ruleset_release(&rs);
	}
}

/* --- bad rules ------------------------------------------------------------------ */

static void
missing_required_parts(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{"logsource: {product: linux}\ndetection: {s: {a: b}, condition: s}\n", "no title"},
		{"title: t\ndetection: {s: {a: b}, condition: s}\n", "no logsource"},
		{"title: t\nlogsource: {product: linux}\n", "no detection"},
		{"title: t\nlogsource: {product: linux}\ndetection: {s: {a: b}}\n", "no condition"},
		{"title: t\nlevel: severe\nlogsource: {product: linux}\ndetection: {s: {a: b}, "
		 "condition: s}\n",
		 "unknown level 'severe'"},
		{"title: t\nlogsource: {product: linux}\ndetection: {s: [], condition: s}\n",
		 "is empty"},
		{"title: t\nlogsource: {product: linux}\ndetection: {s: {}, condition: s}\n",
		 "empty map"},
		{"title: [t]\nlogsource: {product: linux}\ndetection: {s: {a: b}, condition: s}\n",
		 "'title' must be text"},
		{"- just\n- a list\n", "a rule must be a map"},
		{"title: t\nlogsource: {product: linux}\ndetection:\n  s:\n  condition: s\n",
		 "selection 's' is empty"},
		{"title: t\nlogsource: {product: linux}\ndetection: {s: {a: b}, condition: "
		 "s}\ntitle: u\n",
		 "key 'title' given twice"},
	};
	struct sigma_ruleset rs;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		load(&rs, cases[i].text);
		assert_refused(&rs, cases[i].err);
		sigma_ruleset_release(&rs);
	}
}

static void
malformed_yaml(void **state)
{
	struct sigma_ruleset rs;

	(void)state;
	load(&rs,
	     "title: t\nlogsource: {product: linux\ndetection:\n  s: {a: b}\n  condition: s\n");
	assert_refused(&rs, "malformed YAML: ");
	assert_true(rs.errors[0].line >= 2);
	print_message("  (said: %s)\n", rs.errors[0].message);
	sigma_ruleset_release(&rs);
}

static void
malformed_yaml_keeps_earlier_documents(void **state)
{
	struct sigma_ruleset rs;

	(void)state;
	load(&rs, "title: good\nlogsource: {product: linux}\ndetection: {s: {a: b}, condition: s}\n"
		  "---\ntitle: bad\n  - : : [\n");
	assert_int_equal(rs.nrules, 1);
	assert_int_equal(rs.nerrors, 1);
	assert_non_null(strstr(rs.errors[0].message, "malformed YAML"));
	sigma_ruleset_release(&rs);
}

static void
anchors_refused(void **state)
{
	struct sigma_ruleset rs;

	(void)state;
	load(&rs, "title: t\nlogsource: {product: linux}\ndetection:\n"
		  "  s: &x {a: b}\n  t: *x\n  condition: s or t\n");
	assert_refused(&rs, "anchors and aliases are not supported");
	sigma_ruleset_release(&rs);
}

static void
binary_garbage(void **state)
{
	struct sigma_ruleset rs;
	unsigned char junk[4096];
	uint32_t x = 2463534242u;

	(void)state;
	for (size_t i = 0; i < sizeof(junk); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		junk[i] = (unsigned char)x;
	}
	memset(&rs, 0, sizeof(rs));
	assert_int_equal(sigma_load_text(&rs, "t/rule.yml", (const char *)junk, sizeof(junk)), 0);
	assert_int_equal(rs.nrules, 0);
	assert_true(rs.nerrors >= 1);
	sigma_ruleset_release(&rs);
	/* An ELF header and NUL bytes. */
	memset(&rs, 0, sizeof(rs));
	assert_int_equal(sigma_load_text(&rs, "t/rule.yml",
					 "\x7f"
					 "ELF\x02\x01\x01\0\0\0",
					 10),
			 0);
	assert_int_equal(rs.nrules, 0);
	assert_int_equal(rs.nerrors, 1);
	assert_non_null(strstr(rs.errors[0].message, "malformed YAML"));
	sigma_ruleset_release(&rs);
}

static void
invalid_utf8_refused(void **state)
{
	struct sigma_ruleset rs;

	(void)state;
	/* A raw byte 0xff in a value: libyaml refuses the stream. */
	load(&rs, "title: t\nlogsource: {product: linux}\ndetection: {s: {a: \"x\xff\"}, "
		  "condition: s}\n");
	assert_refused(&rs, "malformed YAML: invalid leading UTF-8 octet");
	assert_int_equal(rs.errors[0].line, 3);
	print_message("  (said: %s)\n", rs.errors[0].message);
	sigma_ruleset_release(&rs);
	/* A NUL written as an escape is no text either. */
	load(&rs, "title: t\nlogsource: {product: linux}\ndetection: {s: {a: \"x\\0y\"}, "
		  "condition: s}\n");
	assert_refused(&rs, "NUL");
	sigma_ruleset_release(&rs);
}

static void
value_too_long(void **state)
{
	struct sigma_ruleset rs;
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	buf_puts(&b, "title: t\nlogsource: {product: linux}\ndetection:\n  s:\n    a: ");
	for (int i = 0; i < 70000; i++)
		buf_putc(&b, 'x');
	buf_puts(&b, "\n  condition: s\n");
	load(&rs, b.data);
	assert_refused(&rs, "value too long");
	assert_int_equal(rs.errors[0].line, 5);
	sigma_ruleset_release(&rs);
	buf_release(&b);
}

static void
nested_too_deeply(void **state)
{
	struct sigma_ruleset rs;
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	buf_puts(&b, "title: t\nx: ");
	for (int i = 0; i < 1000; i++)
		buf_putc(&b, '[');
	for (int i = 0; i < 1000; i++)
		buf_putc(&b, ']');
	buf_puts(&b, "\n");
	load(&rs, b.data);
	assert_int_equal(rs.nrules, 0);
	assert_int_equal(rs.nerrors, 1);
	print_message("  (said: %s)\n", rs.errors[0].message);
	sigma_ruleset_release(&rs);
	buf_release(&b);
}

static void
empty_file_reported(void **state)
{
	struct sigma_ruleset rs;

	(void)state;
	load(&rs, "# only a comment\n---\n");
	assert_refused(&rs, "no rule in this file");
	sigma_ruleset_release(&rs);
}

static void
bad_rule_does_not_stop_others(void **state)
{
	struct sigma_ruleset rs;

	(void)state;
	load(&rs,
	     "title: a\nlogsource: {product: linux}\ndetection: {s: {x|nope: 1}, condition: s}\n"
	     "---\n"
	     "title: b\nlogsource: {product: linux}\ndetection: {s: {x: 1}, condition: s}\n"
	     "---\n"
	     "title: c\nlogsource: {product: linux}\ndetection: {s: {x: 1}, condition: t}\n"
	     "---\n");
	assert_int_equal(rs.nrules, 1);
	assert_string_equal(rs.rules[0]->title, "b");
	print_errors(&rs);
	assert_int_equal(rs.nerrors, 2);
	assert_int_equal(rs.errors[0].line, 3);
	assert_int_equal(rs.errors[1].line, 11);
	sigma_ruleset_release(&rs);
}

/* --- directories ------------------------------------------------------------------ */

static char *
make_tmpdir(void)
{
	char tmpl[] = "/tmp/test_sigma.XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	return xstrdup(tmpl);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void
rm_rf(const char *dir)
{
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void
load_dir_recursive_skips_symlinks(void **state)
{
	const char *good =
		"title: t\nlogsource: {product: linux}\ndetection: {s: {x: 1}, condition: s}\n";
	struct sigma_ruleset rs = {0};
	char *dir = make_tmpdir(), p[PATH_MAX], q[PATH_MAX];
	bool saw_link = false;

	(void)state;
	snprintf(p, sizeof(p), "%s/a.yml", dir);
	write_file(p, good);
	snprintf(p, sizeof(p), "%s/sub", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/sub/b.yaml", dir);
	write_file(p, good);
	snprintf(p, sizeof(p), "%s/sub/notes.txt", dir);
	write_file(p, "not a rule");
	snprintf(p, sizeof(p), "%s/sub/bad.yml", dir);
	write_file(p, "title: [\n");
	snprintf(p, sizeof(p), "%s/a.yml", dir);
	snprintf(q, sizeof(q), "%s/link.yml", dir);
	assert_int_equal(symlink(p, q), 0);

	assert_int_equal(sigma_load_dir(&rs, dir), 0);
	assert_int_equal(rs.nrules, 2);
	assert_int_equal(rs.nerrors, 2);
	for (size_t i = 0; i < rs.nerrors; i++)
		if (strstr(rs.errors[i].message, "symbolic link") != NULL) {
			saw_link = true;
			assert_string_equal(rs.errors[i].path, q);
		}
	assert_true(saw_link);
	assert_int_equal(sigma_load_dir(&rs, "/nonexistent/sigma"), -ENOENT);
	sigma_ruleset_release(&rs);
	rm_rf(dir);
	free(dir);
}

static void
load_dir_ten_thousand_rules(void **state)
{
	struct sigma_ruleset rs = {0};
	char *dir = make_tmpdir(), p[PATH_MAX], text[512];

	(void)state;
	for (int i = 0; i < 10000; i++) {
		snprintf(p, sizeof(p), "%s/r%05d.yml", dir, i);
		snprintf(text, sizeof(text),
			 "title: rule %d\nid: id-%d\nlogsource: {product: linux}\n"
			 "detection:\n  sel:\n    msg|contains: 'needle %d'\n  filter: {user: "
			 "root}\n"
			 "  condition: sel and not filter\n",
			 i, i, i);
		write_file(p, text);
	}
	assert_int_equal(sigma_load_dir(&rs, dir), 0);
	assert_int_equal(rs.nerrors, 0);
	assert_int_equal(rs.nrules, 10000);
	assert_string_equal(rs.rules[9999]->id, "id-9999"); /* in name order */
	sigma_ruleset_release(&rs);
	rm_rf(dir);
	free(dir);
}

/* The real third-party rules in shared/ (not in the repository). */
static void
loads_shared_sigma_rules(void **state)
{
	struct sigma_ruleset rs = {0};
	char dir[PATH_MAX];
	const char *env = getenv("YINGJI_SIGMA_RULES");
	size_t total;

	(void)state;
	if (env != NULL)
		snprintf(dir, sizeof(dir), "%s", env);
	else
		snprintf(dir, sizeof(dir), "%s/../../../shared/sigma/rules",
			 getenv("YINGJI_TEST_DATA") ? getenv("YINGJI_TEST_DATA") : "tests/data");
	if (access(dir, R_OK) != 0) {
		snprintf(dir, sizeof(dir), "%s", "/work/shared/sigma/rules");
		if (access(dir, R_OK) != 0)
			skip();
	}
	assert_int_equal(sigma_load_dir(&rs, dir), 0);
	total = rs.nrules + rs.ncorrs + rs.nerrors;
	print_message("  shared Sigma rules: %zu loaded, %zu correlations, %zu refused\n",
		      rs.nrules, rs.ncorrs, rs.nerrors);
	print_errors(&rs);
	assert_true(total > 0);
	assert_true((rs.nrules + rs.ncorrs) * 10 >= total * 9);
	sigma_ruleset_release(&rs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_metadata_and_lowercases_logsource),
		cmocka_unit_test(defaults_id_to_file_name_and_level_to_medium),
		cmocka_unit_test(plain_values_strings_numbers_booleans),
		cmocka_unit_test(modifier_contains_startswith_endswith),
		cmocka_unit_test(modifier_all),
		cmocka_unit_test(modifier_re_with_flags),
		cmocka_unit_test(modifier_cidr),
		cmocka_unit_test(modifier_base64),
		cmocka_unit_test(modifier_base64offset),
		cmocka_unit_test(modifier_windash),
		cmocka_unit_test(modifier_windash_bounded),
		cmocka_unit_test(values_bounded_per_rule),
		cmocka_unit_test(modifier_exists),
		cmocka_unit_test(modifier_cased),
		cmocka_unit_test(null_values),
		cmocka_unit_test(unsupported_modifiers_refused_with_reason),
		cmocka_unit_test(unknown_modifier_refused),
		cmocka_unit_test(conflicting_modifiers_refused),
		cmocka_unit_test(keyword_list),
		cmocka_unit_test(keyword_list_under_another_name),
		cmocka_unit_test(list_of_maps),
		cmocka_unit_test(condition_forms),
		cmocka_unit_test(condition_quantifiers),
		cmocka_unit_test(condition_errors),
		cmocka_unit_test(condition_list_is_or),
		cmocka_unit_test(condition_nested_too_deeply),
		cmocka_unit_test(correlation_event_count),
		cmocka_unit_test(correlation_value_count),
		cmocka_unit_test(correlation_temporal),
		cmocka_unit_test(correlation_errors),
		cmocka_unit_test(missing_required_parts),
		cmocka_unit_test(malformed_yaml),
		cmocka_unit_test(malformed_yaml_keeps_earlier_documents),
		cmocka_unit_test(anchors_refused),
		cmocka_unit_test(binary_garbage),
		cmocka_unit_test(invalid_utf8_refused),
		cmocka_unit_test(value_too_long),
		cmocka_unit_test(nested_too_deeply),
		cmocka_unit_test(empty_file_reported),
		cmocka_unit_test(bad_rule_does_not_stop_others),
		cmocka_unit_test(load_dir_recursive_skips_symlinks),
		cmocka_unit_test(load_dir_ten_thousand_rules),
		cmocka_unit_test(loads_shared_sigma_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
