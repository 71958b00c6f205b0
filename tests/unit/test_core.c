/* test_core.c - lib/core: buffers with caps, JSON escaping, UTF-8, paths,
 * durations and sizes, the byte-keyed map. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/bmap.h"
#include "core/buf.h"
#include "core/crc32c.h"
#include "core/json.h"
#include "core/path.h"
#include "core/timeutil.h"
#include "core/utf8.h"
#include "core/banned.h"

static void
buf_never_grows_past_its_cap(void **state)
{
	struct buf b;

	buf_init(&b, 8);
	assert_int_equal(buf_puts(&b, "12345678"), 0);
	assert_int_equal(buf_puts(&b, "9"), -E2BIG);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.data, "12345678");
	assert_int_equal(buf_appendf(&b, "%d", 1), -E2BIG);
	assert_string_equal(b.data, "12345678");
	buf_release(&b);
	assert_non_null(b.data);
	assert_int_equal(b.data[0], '\0');
}

static void
json_escapes_any_file_name(void **state)
{
	/* a newline, a quote, a backslash, Chinese, and two bytes that are not UTF-8 */
	static const char name[] = "a\n\"\\网页\xff\xfe";
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(json_append_string(&b, name, sizeof(name) - 1), 0);
	assert_string_equal(b.data, "\"a\\n\\\"\\u005c网页\\\\xff\\\\xfe\"");
	buf_release(&b);
}

static void
json_object_nests_and_closes(void **state)
{
	struct buf b;
	struct json j;

	buf_init(&b, 0);
	json_begin(&j, &b);
	json_key_str(&j, "a", "x");
	json_key_array(&j, "l");
	json_array_object(&j);
	json_key_u64(&j, "n", 1);
	json_close(&j);
	json_array_str(&j, "s");
	json_close(&j);
	json_key_bool(&j, "t", true);
	assert_int_equal(json_end(&j), 0);
	assert_string_equal(b.data, "{\"a\":\"x\",\"l\":[{\"n\":1},\"s\"],\"t\":true}");
	buf_release(&b);
}

static void
utf8_rejects_overlongs_and_surrogates(void **state)
{
	assert_true(utf8_valid("网页防篡改", strlen("网页防篡改")));
	assert_false(utf8_valid("\xc0\xaf", 2));		/* overlong '/' */
	assert_false(utf8_valid("\xed\xa0\x80", 3));		/* surrogate */
	assert_false(utf8_valid("\xf4\x90\x80\x80", 4));	/* above U+10FFFF */
	assert_false(utf8_valid("\xe7\xbd", 2));		/* truncated */
}

static void
paths_are_normalised_without_resolving(void **state)
{
	char *p;

	p = path_absolute("/var//www/./html/../site/");
	assert_string_equal(p, "/var/www/site");
	free(p);
	p = path_absolute("/..");
	assert_string_equal(p, "/");
	free(p);
	assert_null(path_absolute(""));
	p = path_join_abs("/a", "");
	assert_string_equal(p, "/a");
	free(p);
	p = path_join_rel("", "x");
	assert_string_equal(p, "x");
	free(p);
}

static void
durations_and_sizes_parse_or_fail_clearly(void **state)
{
	int64_t ns;
	uint64_t bytes;

	assert_int_equal(duration_parse("10s", &ns), 0);
	assert_int_equal(ns, 10000000000ll);
	assert_int_equal(duration_parse("250ms", &ns), 0);
	assert_int_equal(ns, 250000000ll);
	assert_int_equal(duration_parse("2h", &ns), 0);
	assert_int_equal(duration_parse("s", &ns), -EINVAL);
	assert_int_equal(duration_parse("10x", &ns), -EINVAL);
	assert_int_equal(duration_parse("99999999999999999999", &ns), -ERANGE);
	assert_int_equal(size_parse("64M", &bytes), 0);
	assert_int_equal(bytes, 64ull << 20);
	assert_int_equal(size_parse("-1", &bytes), -EINVAL);
	assert_int_equal(size_parse("99999999999T", &bytes), -ERANGE);
}

static void
bmap_holds_many_keys_and_deletes(void **state)
{
	struct bmap m;
	static int values[5000];

	bmap_init(&m);
	for (int i = 0; i < 5000; i++)
		assert_null(bmap_put(&m, &i, sizeof(i), &values[i]));
	for (int i = 0; i < 5000; i += 2)
		assert_ptr_equal(bmap_del(&m, &i, sizeof(i)), &values[i]);
	for (int i = 0; i < 5000; i++)
		assert_ptr_equal(bmap_get(&m, &i, sizeof(i)), i % 2 ? &values[i] : NULL);
	assert_int_equal(m.used, 2500);
	bmap_release(&m);
}

static void
bmap_does_not_grow_under_churn(void **state)
{
	struct bmap m;
	static int v;

	bmap_init(&m);
	for (int i = 0; i < 200000; i++) {
		bmap_put(&m, &i, sizeof(i), &v);
		assert_ptr_equal(bmap_del(&m, &i, sizeof(i)), &v);
	}
	assert_int_equal(m.used, 0);
	assert_true(m.nslots <= 256);
	bmap_release(&m);
}

static void
crc32c_matches_the_standard_check_value(void **state)
{
	assert_int_equal(crc32c(0, "123456789", 9), 0xe3069283u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buf_never_grows_past_its_cap),
		cmocka_unit_test(json_escapes_any_file_name),
		cmocka_unit_test(json_object_nests_and_closes),
		cmocka_unit_test(utf8_rejects_overlongs_and_surrogates),
		cmocka_unit_test(paths_are_normalised_without_resolving),
		cmocka_unit_test(durations_and_sizes_parse_or_fail_clearly),
		cmocka_unit_test(bmap_holds_many_keys_and_deletes),
		cmocka_unit_test(bmap_does_not_grow_under_churn),
		cmocka_unit_test(crc32c_matches_the_standard_check_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
