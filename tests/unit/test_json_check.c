/* test_json_check.c - the validator every event payload passes before it is
 * stored: valid objects (nesting, Unicode, escapes, what json.h writes) pass;
 * each kind of bad input is refused with the offset and reason of the first
 * problem; deep nesting costs no stack. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/json_check.h"
#include "core/xalloc.h"
#include "core/banned.h"

#define DEPTH	64

/* Check text[0..len) from an exact copy, so a read past len is caught by
 * AddressSanitizer. */
static int
check_n(const char *text, size_t len, unsigned depth, size_t *off, const char **what)
{
	char *p = xmalloc(len ? len : 1);
	int r;

	if (len > 0)
		memcpy(p, text, len);
	r = json_check_object_ex(p, len, depth, off, what);
	free(p);
	return r;
}

static int
check(const char *text)
{
	size_t off = 12345;
	const char *what = "untouched";
	int r = check_n(text, strlen(text), DEPTH, &off, &what);

	if (r == 0) {
		/* reterr_ outputs are written only on error. */
		assert_int_equal(off, 12345);
		assert_string_equal(what, "untouched");
	}
	return r;
}

/* text must be refused with -EINVAL at offset off for reason what. */
static void
bad_at(const char *text, size_t len, size_t off, const char *what)
{
	size_t got_off = 0;
	const char *got_what = NULL;

	assert_int_equal(check_n(text, len, DEPTH, &got_off, &got_what), -EINVAL);
	assert_string_equal(got_what, what);
	assert_int_equal(got_off, off);
	/* The plain function agrees. */
	got_off = 0;
	assert_int_equal(json_check_object(text, len, DEPTH, &got_off), -EINVAL);
	assert_int_equal(got_off, off);
}

static void
bad(const char *text, size_t off, const char *what)
{
	bad_at(text, strlen(text), off, what);
}

static void
valid_objects(void **state)
{
	assert_int_equal(check("{}"), 0);
	assert_int_equal(check(" \t\r\n{ \t\r\n} \t\r\n"), 0);
	assert_int_equal(check("{\"a\":1}"), 0);
	assert_int_equal(check("{\"a\":[],\"b\":{},\"c\":[[],[{}],{\"d\":[1,2,[3]]}]}"), 0);
	assert_int_equal(check("{\"t\":true,\"f\":false,\"n\":null,\"s\":\"\",\"a\":[true,false,null]}"),
		0);
	assert_int_equal(check("{ \"a\" : [ 1 , { \"b\" : \"c\" } ] , \"d\" : null }"), 0);
	/* Duplicate keys are allowed (RFC 8259 says SHOULD be unique). */
	assert_int_equal(check("{\"a\":1,\"a\":2}"), 0);
	assert_int_equal(json_check_object(NULL, 0, DEPTH, NULL), -EINVAL); /* NULL outputs are fine */
	assert_int_equal(json_check_object("{}", 2, DEPTH, NULL), 0);
	assert_int_equal(json_check_object_ex("[", 1, DEPTH, NULL, NULL), -EINVAL);
}

static void
valid_numbers(void **state)
{
	static const char *const nums[] = { "0", "-0", "1", "-1", "1234567890", "0.5", "-0.5",
		"10.25", "1e5", "1E5", "1e+5", "1e-5", "1.5e10", "-0.0e-0", "123456789012345678901234567890",
		"1e999" };

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		char text[128];
		int n = snprintf(text, sizeof(text), "{\"n\":%s,\"a\":[%s]}", nums[i], nums[i]);

		assert_true(n > 0 && (size_t)n < sizeof(text));
		assert_int_equal(check_n(text, (size_t)n, DEPTH, NULL, NULL), 0);
	}
}

static void
valid_unicode_and_escapes(void **state)
{
	/* Two-, three- and four-byte UTF-8, U+FFFF, U+10FFFF, DEL. */
	assert_int_equal(check("{\"名\":\"应急 é ∑ 😀 \xef\xbf\xbf \xf4\x8f\xbf\xbf \x7f\"}"), 0);
	assert_int_equal(check("{\"e\":\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"}"), 0);
	assert_int_equal(check("{\"u\":\"\\u0000 \\u00e9 \\uFFFF \\uabcd \\uD83D\\uDE00 \\udbff\\udfff\"}"),
		0);
}

static void
round_trips_what_json_h_writes(void **state)
{
	/* File names may hold any byte: json.h writes the invalid ones as "\\xHH". */
	const char name[] = "/var/www/\xff\xfe bad\x80 \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 "
			    "ok-é \\ \" \x01\x1f\x7f\n\t end\xe4\xb8";
	char all[256];
	struct json j;
	struct buf b;

	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	buf_init(&b, 1 << 16);
	json_begin(&j, &b);
	json_key_str(&j, "type", "tamper");
	json_key_strn(&j, "path", name, sizeof(name) - 1);
	json_key_strn(&j, "bytes", all, sizeof(all));
	json_key_u64(&j, "seq", UINT64_MAX);
	json_key_i64(&j, "time_ns", INT64_MIN);
	json_key_double(&j, "ms", 0.718);
	json_key_double(&j, "big", 1e200);
	json_key_double(&j, "nan", NAN);
	json_key_bool(&j, "restored", true);
	json_key_null(&j, "none");
	json_key_str(&j, "null_str", NULL);
	json_key_object(&j, "writer");
	json_key_i64(&j, "pid", 28959);
	json_key_array(&j, "argv");
	json_array_str(&j, "/usr/bin/bash");
	json_array_object(&j);
	json_key_strn(&j, "raw", "\xff", 1);
	json_close(&j);
	json_close(&j);
	json_close(&j);
	json_key_array(&j, "empty");
	assert_int_equal(json_end(&j), 0);
	/* The writer's output is strict JSON. */
	assert_non_null(strstr(b.data, "\\\\xff"));
	assert_int_equal(check_n(b.data, b.len, DEPTH, NULL, NULL), 0);
	/* ...four levels deep: a limit of 3 is too little. */
	assert_int_equal(check_n(b.data, b.len, 3, NULL, NULL), -E2BIG);
	assert_int_equal(check_n(b.data, b.len, 4, NULL, NULL), 0);
	buf_release(&b);
}

static void
invalid_utf8(void **state)
{
	bad("{\"a\":\"x\xff\"}", 7, "invalid UTF-8");
	bad("{\"a\":\"\x80\"}", 6, "invalid UTF-8");		/* lone continuation */
	bad("{\"a\":\"\xc0\xaf\"}", 6, "invalid UTF-8");	/* overlong '/' */
	bad("{\"a\":\"\xe0\x80\xaf\"}", 6, "invalid UTF-8");	/* overlong, 3 bytes */
	bad("{\"a\":\"\xf0\x80\x80\xaf\"}", 6, "invalid UTF-8"); /* overlong, 4 bytes */
	bad("{\"a\":\"\xed\xa0\x80\"}", 6, "invalid UTF-8");	/* U+D800 in UTF-8 */
	bad("{\"a\":\"\xed\xbf\xbf\"}", 6, "invalid UTF-8");	/* U+DFFF in UTF-8 */
	bad("{\"a\":\"\xf4\x90\x80\x80\"}", 6, "invalid UTF-8"); /* U+110000 */
	bad("{\"a\":\"\xe4\xb8\"}", 6, "invalid UTF-8");	/* cut short */
	bad("{\"\xfe\":1}", 2, "invalid UTF-8");		/* in a key too */
}

static void
control_character_in_string(void **state)
{
	bad("{\"a\":\"x\ny\"}", 7, "control character in string");
	bad("{\"a\":\"\t\"}", 6, "control character in string");
	bad("{\"a\":\"\x1f\"}", 6, "control character in string");
	bad("{\"\x01\":1}", 2, "control character in string");
}

static void
nul_in_string(void **state)
{
	bad_at("{\"a\":\"x\0y\"}", 11, 7, "NUL in string");
}

static void
bad_escape(void **state)
{
	bad("{\"a\":\"\\x41\"}", 6, "bad escape");
	bad("{\"a\":\"\\a\"}", 6, "bad escape");
	bad("{\"a\":\"\\U0041\"}", 6, "bad escape");
	bad("{\"a\":\"\\u00g1\"}", 6, "bad escape");
	bad("{\"a\":\"\\u12\"}", 6, "bad escape");
	bad("{\"a\":\"\\ \"}", 6, "bad escape");
	bad_at("{\"a\":\"\\\0\"}", 9, 6, "bad escape");
	/* The low half of a pair must be a proper escape too. */
	bad("{\"a\":\"\\ud83d\\udeZZ\"}", 12, "bad escape");
}

static void
lone_surrogate(void **state)
{
	bad("{\"a\":\"\\ud83d\"}", 6, "lone surrogate");		/* high, then the quote */
	bad("{\"a\":\"\\ud83dx\"}", 6, "lone surrogate");		/* high, then a letter */
	bad("{\"a\":\"\\ud83d\\n\"}", 6, "lone surrogate");		/* high, then another escape */
	bad("{\"a\":\"\\ud83d\\u0041\"}", 6, "lone surrogate");	/* high, then not a low */
	bad("{\"a\":\"\\ud83d\\ud83d\"}", 6, "lone surrogate");	/* high, high */
	bad("{\"a\":\"\\ude00\"}", 6, "lone surrogate");		/* low alone */
	bad("{\"a\":\"x\\uDFFF\\uD800\"}", 7, "lone surrogate");	/* pair the wrong way round */
}

static void
bad_number(void **state)
{
	bad("{\"n\":01}", 6, "bad number");
	bad("{\"n\":-}", 6, "bad number");
	bad("{\"n\":-a}", 6, "bad number");
	bad("{\"n\":1.}", 7, "bad number");
	bad("{\"n\":.5}", 5, "unexpected character");
	bad("{\"n\":1.e5}", 7, "bad number");
	bad("{\"n\":1e}", 7, "bad number");
	bad("{\"n\":1e+}", 8, "bad number");
	bad("{\"n\":1.2.3}", 8, "bad number");
	bad("{\"n\":1e5e5}", 8, "bad number");
	bad("{\"n\":+1}", 5, "unexpected character");
	bad("{\"n\":--1}", 6, "bad number");
	bad("{\"n\":0x10}", 6, "expected ',' or '}'");
	bad("{\"n\":[-01]}", 8, "bad number");
}

static void
bad_literal(void **state)
{
	bad("{\"a\":tru}", 5, "bad literal");
	bad("{\"a\":True}", 5, "unexpected character");
	bad("{\"a\":nul1}", 5, "bad literal");
	bad("{\"a\":falsey}", 5, "bad literal");
	bad("{\"a\":NaN}", 5, "unexpected character");
	bad("{\"a\":undefined}", 5, "unexpected character");
}

static void
structure_errors(void **state)
{
	bad("{\"a\" 1}", 5, "expected ':'");
	bad("{\"a\":1 \"b\":2}", 7, "expected ',' or '}'");
	bad("{\"a\":[1 2]}", 8, "expected ',' or ']'");
	bad("{\"a\":[1,]}", 8, "unexpected character");
	bad("{\"a\":1,}", 7, "expected string key");
	bad("{,}", 1, "expected string key");
	bad("{a:1}", 1, "expected string key");
	bad("{1:1}", 1, "expected string key");
	bad("{'a':1}", 1, "expected string key");
	bad("{\"a\":1]", 6, "expected ',' or '}'");
	bad("{\"a\":[1}", 7, "expected ',' or ']'");
	bad("{\"a\":}", 5, "unexpected character");
	bad("{\"a\":'x'}", 5, "unexpected character");
}

static void
trailing_data(void **state)
{
	bad("{}x", 2, "trailing data");
	bad("{} {}", 3, "trailing data");
	bad("{}}", 2, "trailing data");
	bad("{}\v", 2, "trailing data");		/* not JSON white space */
	bad_at("{}\0", 3, 2, "trailing data");
}

static void
not_an_object(void **state)
{
	bad("[]", 0, "not an object");
	bad("\"s\"", 0, "not an object");
	bad("1", 0, "not an object");
	bad("null", 0, "not an object");
	bad("  [{}]", 2, "not an object");
	bad("\xef\xbb\xbf{}", 0, "not an object");	/* a byte order mark is not allowed */
}

static void
unexpected_end(void **state)
{
	static const char *const cut[] = { "", "  ", "{", "{\"a", "{\"a\"", "{\"a\":", "{\"a\":1",
		"{\"a\":[", "{\"a\":[1,", "{\"a\":\"x", "{\"a\":\"\\", "{\"a\":\"\\u00", "{\"a\":\"\\ud83d",
		"{\"a\":\"\\ud83d\\", "{\"a\":\"\\ud83d\\ude", "{\"a\":t", "{\"a\":fals", "{\"a\":-",
		"{\"a\":1.", "{\"a\":1e", "{\"a\":1e-", "{\"a\":{\"b\":{}" };

	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++)
		bad(cut[i], strlen(cut[i]), "unexpected end");
}

static void
every_prefix_of_a_valid_object_is_refused(void **state)
{
	const char *text = "{\"a\":[1,-2.5e3,{\"b\":\"\\ud83d\\ude00é\"}],\"c\":true,\"d\":null}";
	size_t len = strlen(text);

	assert_int_equal(check(text), 0);
	for (size_t n = 0; n < len; n++)
		assert_int_equal(check_n(text, n, DEPTH, NULL, NULL), -EINVAL);
}

static void
nesting_too_deep(void **state)
{
	size_t off = 0;
	const char *what = NULL;

	assert_int_equal(check_n("{\"a\":[[{}]]}", 12, 4, NULL, NULL), 0);
	assert_int_equal(check_n("{\"a\":[[{}]]}", 12, 3, &off, &what), -E2BIG);
	assert_int_equal(off, 7);
	assert_string_equal(what, "nesting too deep");
	assert_int_equal(check_n("{}", 2, 1, NULL, NULL), 0);
	assert_int_equal(check_n("{}", 2, 0, &off, &what), -E2BIG);
	assert_int_equal(off, 0);
}

static void
deep_nesting_costs_no_stack(void **state)
{
	size_t depth = 1 << 20, n = 0, off = 0;
	char *text = xmalloc(2 * depth + 64);
	const char *what = NULL;

	memcpy(text, "{\"a\":", 5);
	n = 5;
	memset(text + n, '[', depth);
	n += depth;
	memset(text + n, ']', depth);
	n += depth;
	text[n++] = '}';
	/* Balanced, a million levels: fine when allowed, refused by default. */
	assert_int_equal(json_check_object(text, n, UINT_MAX, NULL), 0);
	assert_int_equal(json_check_object_ex(text, n, DEPTH, &off, &what), -E2BIG);
	assert_int_equal(off, 5 + DEPTH - 1);
	/* Unbalanced: an error, not a crash. */
	assert_int_equal(json_check_object_ex(text, 5 + depth, UINT_MAX, &off, &what), -EINVAL);
	assert_string_equal(what, "unexpected end");
	assert_int_equal(off, 5 + depth);
	/* A megabyte of '[' alone. */
	assert_int_equal(json_check_object_ex(text + 5, depth, UINT_MAX, &off, &what), -EINVAL);
	assert_string_equal(what, "not an object");
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_objects),
		cmocka_unit_test(valid_numbers),
		cmocka_unit_test(valid_unicode_and_escapes),
		cmocka_unit_test(round_trips_what_json_h_writes),
		cmocka_unit_test(invalid_utf8),
		cmocka_unit_test(control_character_in_string),
		cmocka_unit_test(nul_in_string),
		cmocka_unit_test(bad_escape),
		cmocka_unit_test(lone_surrogate),
		cmocka_unit_test(bad_number),
		cmocka_unit_test(bad_literal),
		cmocka_unit_test(structure_errors),
		cmocka_unit_test(trailing_data),
		cmocka_unit_test(not_an_object),
		cmocka_unit_test(unexpected_end),
		cmocka_unit_test(every_prefix_of_a_valid_object_is_refused),
		cmocka_unit_test(nesting_too_deep),
		cmocka_unit_test(deep_nesting_costs_no_stack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
