/*
 * test_re_literals.c - the literals the line filter looks for (detect/
 * re_literals.h): what each regular expression form requires, and that
 * every literal said is in every match (checked with PCRE2 on sample texts).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "detect/pcre_re.h"
#include "detect/re_literals.h"

static bool
has(const struct relit_set *s, const char *lit)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->len[i] == strlen(lit) && memcmp(s->s[i], lit, s->len[i]) == 0)
			return true;
	return false;
}

/* re's set is exactly the literals given (NULL-terminated). */
static void
expect_set(const char *re, ...)
{
	struct relit_set s;
	va_list ap;
	size_t n = 0;
	const char *lit;

	assert_int_equal(re_required_literals(re, strlen(re), &s), 0);
	va_start(ap, re);
	while ((lit = va_arg(ap, const char *)) != NULL) {
		if (!has(&s, lit))
			fail_msg("%s: '%s' missing from its set", re, lit);
		n++;
	}
	va_end(ap);
	if (s.n != n)
		fail_msg("%s: %zu literals, wanted %zu", re, s.n, n);
}

static void
test_plain_and_case(void **state)
{
	(void)state;
	expect_set("union select", "union select", NULL);
	expect_set("UNION\\s+SELECT", "select", NULL);	/* the better half */
	expect_set("(?i)etc/passwd", "etc/passwd", NULL);
	expect_set("\\.\\./", "../", NULL);
	expect_set("\\x41BC", "abc", NULL);
	expect_set("\\Qa.b\\E", "a.b", NULL);
	expect_set("x\\Qabc\\E?y", "xabcy", "xaby", NULL);
	expect_set("xyz\\E?w", "xyzw", "xyw", NULL);
	expect_set("a\\Q|b\\Ec", "a|bc", NULL);
}

static void
test_alternation_and_cross(void **state)
{
	(void)state;
	expect_set("(https?|ftp)://", "http://", "https://", "ftp://", NULL);
	expect_set("cmd|exec", "cmd", "exec", NULL);
	expect_set("[sS]hell", "shell", NULL);
	expect_set("(?:php|phar)://", "php://", "phar://", NULL);
	expect_set("eval\\(|assert\\(", "eval(", "assert(", NULL);
}

static void
test_optional_parts(void **state)
{
	(void)state;
	expect_set("colou?r", "color", "colour", NULL);
	expect_set("a.*bcd", "bcd", NULL);
	expect_set("x+yz", "yz", NULL);		/* x+: the run ends after x */
	expect_set("(abc)+", "abc", NULL);
	expect_set("ab{0,3}cde", "cde", NULL);
	expect_set("ab{2}cd", "cd", NULL);
	expect_set("^/admin$", "/admin", NULL);
}

static void
test_nothing_to_say(void **state)
{
	struct relit_set s;

	(void)state;
	assert_int_equal(re_required_literals(".*", 2, &s), -ENOENT);
	assert_int_equal(re_required_literals("\\d+", 3, &s), -ENOENT);
	assert_int_equal(re_required_literals("a|.*", 4, &s), -ENOENT);
	assert_int_equal(re_required_literals("[^a]", 4, &s), -ENOENT);
	assert_int_equal(re_required_literals("(?=abc)", 7, &s), -ENOENT);
	assert_int_equal(re_required_literals("x*", 2, &s), -ENOENT);
	assert_int_equal(re_required_literals("(a", 2, &s), -EINVAL);
	assert_int_equal(re_required_literals("a)", 2, &s), -EINVAL);
	assert_int_equal(re_required_literals("*a", 2, &s), -EINVAL);
	assert_int_equal(re_required_literals("[abc", 4, &s), -EINVAL);
	assert_int_equal(re_required_literals("\\xZZ", 4, &s), -EINVAL);
	/* extended mode (blanks and comments are no text) is not followed */
	assert_int_equal(re_required_literals("(?x)abc def", 11, &s), -EINVAL);
	assert_int_equal(re_required_literals("(?ix:a b)", 9, &s), -EINVAL);
	/* escapes not known here: nothing is said */
	assert_int_equal(re_required_literals("ab\\jcd", 7, &s), -EINVAL);
}

/* A set too big to keep is dropped, never cut: 20 alternatives. */
static void
test_bounds(void **state)
{
	const char *re = "(a1|a2|a3|a4|a5|a6|a7|a8|a9|b1|b2|b3|b4|b5|b6|b7|b8|b9|c1|c2)=x";
	char deep[200];
	struct relit_set s;

	(void)state;
	expect_set(re, "=x", NULL);
	memset(deep, '(', 100);
	memcpy(deep + 100, "a", 1);
	memset(deep + 101, ')', 99);
	assert_int_equal(re_required_literals(deep, 200, &s), -EINVAL);	/* too deep */
}

/* Every literal said is in every match: for each expression and each
 * sample text PCRE2 matches (caseless), one literal of the set is in it. */
static void
test_sound_on_samples(void **state)
{
	static const char *const res[] = {
		"(https?|ftps?)(:|%3a)(//|%2f%2f)", "colou?r", "(?i)select.+from",
		"[sS]h(e|3)ll\\.(php|jsp)", "ab{0,3}c+de?f", "(cmd|exec)=\\w+",
		/* forms a review found claimed too much (each with its text below) */
		"x\\cZzzz", "[\\Qab]\\E]", "[\\c]a]x", "x\\Qabc\\E?y", "xyz\\E?w",
		"abc\\Q\\E?d", "x[[:]|[[:]]yyyy", "\\e\\E*q", "a\\Q|b\\Ec", "[[:alpha:]]9z",
	};
	static const char *const texts[] = {
		"x=http://a", "FTPS%3A%2F%2Fhost", "the colour red", "COLOR", "SELECT a FROM t",
		"/sh3ll.JSP", "/Shell.php", "acccdf", "abbbcdef", "cmd=ls", "EXEC=x", "nothing",
		"x\x1azzz", "a", "ax", "xaby", "xyw", "abd", "x:", "q", "a|bc", "k9z",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
		struct relit_set s;
		struct pcre_re *re = NULL;
		char *err = NULL;

		if (re_required_literals(res[i], strlen(res[i]), &s) != 0)
			continue;	/* saying nothing is always sound */
		assert_int_equal(pcre_re_compile(res[i], strlen(res[i]), PCRE_RE_I, &re, &err), 0);
		for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
			bool found = false;

			if (!pcre_re_match(re, texts[t], strlen(texts[t])))
				continue;
			for (size_t k = 0; k < s.n && !found; k++)
				for (size_t j = 0; j + s.len[k] <= strlen(texts[t]) && !found; j++)
					found = strncasecmp(texts[t] + j, s.s[k], s.len[k]) == 0;
			if (!found)
				fail_msg("'%s' matches '%s' but holds none of its literals", res[i],
					texts[t]);
		}
		pcre_re_free(re);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_case),
		cmocka_unit_test(test_alternation_and_cross),
		cmocka_unit_test(test_optional_parts),
		cmocka_unit_test(test_nothing_to_say),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_sound_on_samples),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
