/* test_json_get.c - reading fields back out of event JSON: escapes, bytes that
 * are not UTF-8, nesting, missing keys, and input that is wrong or cut short. */
#include <errno.h>
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
#include "core/json_get.h"
#include "core/xalloc.h"
#include "core/banned.h"

/* A copy of text[0..len) with nothing after it, so a read past len is
 * caught by AddressSanitizer. */
static char *
exact_copy(const char *text, size_t len)
{
	char *p = xmalloc(len ? len : 1);

	memcpy(p, text, len);
	return p;
}

static int
get_str(const char *text, const char *key, struct buf *out)
{
	size_t len = strlen(text);
	char *p = exact_copy(text, len);
	int r = json_get_str(p, len, key, out);

	free(p);
	return r;
}

static int
get_i64(const char *text, const char *key, int64_t *v)
{
	size_t len = strlen(text);
	char *p = exact_copy(text, len);
	int r = json_get_i64(p, len, key, v);

	free(p);
	return r;
}

static void
reads_top_level_strings_and_numbers(void **state)
{
	const char *ev = "{\"type\":\"tamper\",\"time_ns\":1763783378123456789,"
		"\"path\":\"/srv/www/index.html\",\"latency_ns\":-42,\"count\":0}";
	struct buf b;
	int64_t v = 0;

	buf_init(&b, 4096);
	assert_int_equal(get_str(ev, "type", &b), 0);
	assert_string_equal(b.data, "tamper");
	assert_int_equal(get_str(ev, "path", &b), 0);
	assert_string_equal(b.data, "/srv/www/index.html");
	assert_int_equal(get_i64(ev, "time_ns", &v), 0);
	assert_true(v == INT64_C(1763783378123456789));
	assert_int_equal(get_i64(ev, "latency_ns", &v), 0);
	assert_int_equal(v, -42);
	assert_int_equal(get_i64(ev, "count", &v), 0);
	assert_int_equal(v, 0);
	buf_release(&b);
}

static void
unescapes(void **state)
{
	struct buf b;

	buf_init(&b, 4096);
	assert_int_equal(get_str("{\"s\":\"a\\\"b\\\\c\\/d\\n\\t\\r\\b\\f\"}", "s", &b), 0);
	assert_string_equal(b.data, "a\"b\\c/d\n\t\r\b\f");
	assert_int_equal(get_str("{\"s\":\"\\u00e9\\u4e2d\\ud83d\\ude00\\u0041\"}", "s", &b), 0);
	assert_string_equal(b.data, "\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80" "A");
	/* A lone surrogate cannot be UTF-8: it becomes U+FFFD. */
	assert_int_equal(get_str("{\"s\":\"x\\ud800y\"}", "s", &b), 0);
	assert_string_equal(b.data, "x\xef\xbf\xbdy");
	/* \u0000 is a real NUL in the result. */
	assert_int_equal(get_str("{\"s\":\"a\\u0000b\"}", "s", &b), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b", 3);
	/* json.h's convention for bytes that are not UTF-8. */
	assert_int_equal(get_str("{\"s\":\"\\\\xff\\\\x00ok\\\\xZZ\"}", "s", &b), 0);
	assert_int_equal(b.len, 8);
	assert_memory_equal(b.data, "\xff\x00ok\\xZZ", 8);
	/* Escaped keys match too. */
	assert_int_equal(get_str("{\"p\\u0061th\":\"/x\"}", "path", &b), 0);
	assert_string_equal(b.data, "/x");
	buf_release(&b);
}

static void
round_trips_what_json_h_writes(void **state)
{
	/* Every byte value but NUL, in a file name, comes back as it was. */
	char name[300];
	struct buf out, got;
	struct json j;
	size_t n = 0;

	for (int c = 1; c < 256; c++)
		if (c != '\\')	/* a backslash before "xHH" is ambiguous: see the report */
			name[n++] = (char)c;
	memcpy(name + n, "\xe4\xb8\xad\xe6\x96\x87", 6);	/* and some valid UTF-8 */
	n += 6;
	buf_init(&out, 1 << 16);
	buf_init(&got, 1 << 16);
	json_begin(&j, &out);
	json_key_str(&j, "type", "tamper");
	json_key_object(&j, "writer");
	json_key_strn(&j, "path", "decoy", 5);
	json_close(&j);
	json_key_strn(&j, "path", name, n);
	assert_int_equal(json_end(&j), 0);

	assert_int_equal(json_get_str(out.data, out.len, "path", &got), 0);
	assert_int_equal(got.len, n);
	assert_memory_equal(got.data, name, n);
	buf_release(&out);
	buf_release(&got);
}

static void
nested_values_are_skipped_and_reachable(void **state)
{
	const char *ev = "{ \"writer\" : { \"pid\": 4242, \"exe\": \"/usr/bin/vi}m\", "
		"\"a\": [1, {\"pid\": 7}, \"]\"] },\n\t\"pid\": 1, \"list\": [[[]]], \"t\": true, "
		"\"n\": null }";
	const char *w;
	size_t wlen;
	struct buf b;
	int64_t v = 0;

	buf_init(&b, 4096);
	assert_int_equal(get_i64(ev, "pid", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(json_get_raw(ev, strlen(ev), "writer", &w, &wlen), 0);
	assert_int_equal(w[0], '{');
	assert_int_equal(w[wlen - 1], '}');
	assert_int_equal(json_get_i64(w, wlen, "pid", &v), 0);
	assert_int_equal(v, 4242);
	assert_int_equal(json_get_str(w, wlen, "exe", &b), 0);
	assert_string_equal(b.data, "/usr/bin/vi}m");
	/* Only the top level is searched. */
	assert_int_equal(get_str(ev, "exe", &b), -ENOENT);
	/* null reads as absent; another type is an error. */
	assert_int_equal(get_str(ev, "n", &b), -ENOENT);
	assert_int_equal(get_i64(ev, "n", &v), -ENOENT);
	assert_int_equal(get_str(ev, "t", &b), -EINVAL);
	assert_int_equal(get_i64(ev, "writer", &v), -EINVAL);
	assert_int_equal(get_str(ev, "pid", &b), -EINVAL);
	buf_release(&b);
}

static void
missing_keys(void **state)
{
	struct buf b;
	int64_t v = 0;

	buf_init(&b, 4096);
	assert_int_equal(get_str("{}", "path", &b), -ENOENT);
	assert_int_equal(get_str(" { } ", "path", &b), -ENOENT);
	assert_int_equal(get_str("{\"pat\":\"x\",\"paths\":\"y\"}", "path", &b), -ENOENT);
	assert_int_equal(get_i64("{\"a\":1}", "b", &v), -ENOENT);
	/* The first of two wins. */
	assert_int_equal(get_str("{\"k\":\"1\",\"k\":\"2\"}", "k", &b), 0);
	assert_string_equal(b.data, "1");
	buf_release(&b);
}

static void
numbers(void **state)
{
	int64_t v = 0;

	assert_int_equal(get_i64("{\"n\":9223372036854775807}", "n", &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(get_i64("{\"n\":-9223372036854775808}", "n", &v), 0);
	assert_true(v == INT64_MIN);
	assert_int_equal(get_i64("{\"n\":9223372036854775808}", "n", &v), -ERANGE);
	assert_int_equal(get_i64("{\"n\":-9223372036854775809}", "n", &v), -ERANGE);
	assert_int_equal(get_i64("{\"n\":99999999999999999999999}", "n", &v), -ERANGE);
	v = 5;
	assert_int_equal(get_i64("{\"n\":1.5}", "n", &v), -EINVAL);
	assert_int_equal(get_i64("{\"n\":1e3}", "n", &v), -EINVAL);
	assert_int_equal(get_i64("{\"n\":-}", "n", &v), -EINVAL);
	assert_int_equal(get_i64("{\"n\":\"12\"}", "n", &v), -EINVAL);
	assert_int_equal(get_i64("{\"n\":12x}", "n", &v), -EINVAL);
	assert_int_equal(v, 5);		/* untouched on failure */
	assert_int_equal(get_i64("{\"n\": 12 }", "n", &v), 0);
	assert_int_equal(v, 12);
}

static void
invalid_input(void **state)
{
	static const char *const bad[] = {
		"", "   ", "[]", "\"s\"", "{", "{\"s\"", "{\"s\":", "{\"s\" \"x\"}",
		"{s:\"x\"}", "{\"a\":1 \"s\":\"x\"}", "{\"a\":,\"s\":\"x\"}",
		"{\"a\":{\"b\":1,\"s\":\"x\"}", "{\"a\":\"unterminated, \"s\":\"x\"}",
		"{\"s\":\"bad escape \\q\"}", "{\"s\":\"short \\u12\"}", "{\"s\":\"\\uZZZZ\"}",
		"{\"s\":\"ends in backslash\\",
	};
	struct buf b;

	buf_init(&b, 4096);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = get_str(bad[i], "s", &b);

		if (r != -EINVAL)
			fail_msg("input %zu (%s): got %d", i, bad[i], r);
		assert_int_equal(b.len, 0);
	}
	buf_release(&b);
}

static void
truncated_input_never_reads_past_len(void **state)
{
	/* Every prefix of a real event: an error or a correct value, never a
	 * read past the end (the copy is exactly len bytes). */
	const char *ev = "{\"type\":\"tamper\",\"path\":\"/srv/\\u00e9\\\\xff\",\"writer\":"
		"{\"pid\":12,\"exe\":\"/bin/sh\"},\"count\":12345}";
	size_t full = strlen(ev);
	struct buf b;

	buf_init(&b, 4096);
	for (size_t len = 0; len <= full; len++) {
		char *p = exact_copy(ev, len);
		const char *w;
		size_t wlen;
		int64_t v = 0;
		int r;

		r = json_get_str(p, len, "path", &b);
		if (r == 0)
			assert_memory_equal(b.data, "/srv/\xc3\xa9\xff", 8);
		r = json_get_i64(p, len, "count", &v);
		if (r == 0)
			assert_true(v > 0 && v <= 12345);	/* a cut "12345" */
		if (json_get_raw(p, len, "writer", &w, &wlen) == 0)
			assert_true(w + wlen <= p + len);
		free(p);
	}
	buf_release(&b);
}

static void
string_over_the_cap_is_e2big(void **state)
{
	struct buf b;

	buf_init(&b, 4);
	assert_int_equal(get_str("{\"s\":\"abcd\"}", "s", &b), 0);
	assert_int_equal(get_str("{\"s\":\"abcde\"}", "s", &b), -E2BIG);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void
deep_nesting_costs_no_stack(void **state)
{
	size_t depth = 1 << 20, n = 0;
	char *text = xmalloc(2 * depth + 64);
	struct buf b;

	n += (size_t)snprintf(text, 16, "{\"a\":");
	memset(text + n, '[', depth);
	n += depth;
	memset(text + n, ']', depth);
	n += depth;
	memcpy(text + n, ",\"s\":\"ok\"}", 10);
	n += 10;
	buf_init(&b, 16);
	assert_int_equal(json_get_str(text, n, "s", &b), 0);
	assert_string_equal(b.data, "ok");
	/* Unbalanced: an error, not a crash. */
	assert_int_equal(json_get_str(text, n - 12 - depth / 2, "s", &b), -EINVAL);
	buf_release(&b);
	free(text);
}

/* Iterating members and elements: keys raw, values raw, the end said, a
 * malformed object refused, never read past len. */
static void
iterates_objects_and_arrays(void **state)
{
	static const char obj[] = " { \"a\" : 1, \"b\\\"c\":{\"x\":[1,2]} ,\"d\":\"s\"} ";
	static const char arr[] = "[ 1, \"two\", {\"three\":3} ]";
	const char *k, *v;
	size_t pos = 0, kl, vl, n = 0;
	int r;

	(void)state;
	while ((r = json_object_next(obj, strlen(obj), &pos, &k, &kl, &v, &vl)) == 0) {
		if (n == 0) {
			assert_int_equal(kl, 1);
			assert_memory_equal(k, "a", 1);
			assert_int_equal(vl, 1);
			assert_memory_equal(v, "1", 1);
		} else if (n == 1) {
			assert_int_equal(kl, 4);		/* raw: b\"c */
			assert_int_equal(vl, strlen("{\"x\":[1,2]}"));
		} else {
			assert_memory_equal(k, "d", 1);
			assert_memory_equal(v, "\"s\"", 3);
		}
		n++;
	}
	assert_int_equal(r, -ENOENT);
	assert_int_equal(n, 3);
	pos = n = 0;
	while ((r = json_array_next(arr, strlen(arr), &pos, &v, &vl)) == 0)
		n++;
	assert_int_equal(r, -ENOENT);
	assert_int_equal(n, 3);
	pos = 0;
	assert_int_equal(json_object_next("[1]", 3, &pos, &k, &kl, &v, &vl), -EINVAL);
	pos = 0;
	assert_int_equal(json_object_next("{1:2}", 5, &pos, &k, &kl, &v, &vl), -EINVAL);
	pos = 0;
	assert_int_equal(json_object_next("{\"a\" 2}", 7, &pos, &k, &kl, &v, &vl), -EINVAL);
	pos = 0;
	assert_int_equal(json_object_next("{\"a\":", 5, &pos, &k, &kl, &v, &vl), -EINVAL);
	pos = 0;
	assert_int_equal(json_object_next("{}", 2, &pos, &k, &kl, &v, &vl), -ENOENT);
	pos = 0;
	assert_int_equal(json_object_next("{", 1, &pos, &k, &kl, &v, &vl), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_top_level_strings_and_numbers),
		cmocka_unit_test(unescapes),
		cmocka_unit_test(round_trips_what_json_h_writes),
		cmocka_unit_test(nested_values_are_skipped_and_reachable),
		cmocka_unit_test(missing_keys),
		cmocka_unit_test(numbers),
		cmocka_unit_test(invalid_input),
		cmocka_unit_test(truncated_input_never_reads_past_len),
		cmocka_unit_test(string_over_the_cap_is_e2big),
		cmocka_unit_test(deep_nesting_costs_no_stack),
		cmocka_unit_test(iterates_objects_and_arrays),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
