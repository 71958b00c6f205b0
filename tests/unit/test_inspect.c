/* test_inspect.c - web-content inspection: each way of hiding a link, links to
 * the site itself, keywords in UTF-8 and GB18030, keyword files with
 * comments, binary garbage, the 8 MiB cap, and every prefix of a page (cut
 * tags and attributes) without a crash. */
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/inspect/inspect.h"
#include "core/xalloc.h"
#include "core/banned.h"

/* Inspect a copy of exactly the bytes of s (a read past the end is caught
 * by AddressSanitizer). */
static int
run(const struct inspector *in, const char *s, size_t len, struct inspect_finding *f)
{
	char *p = xmalloc(len ? len : 1);
	int r;

	memcpy(p, s, len);
	r = inspect_content(in, p, len, f);
	free(p);
	return r;
}

static int
run_str(const struct inspector *in, const char *s, struct inspect_finding *f)
{
	return run(in, s, strlen(s), f);
}

static void
expect_link(const struct inspector *in, const char *page, const char *link)
{
	struct inspect_finding f = { 0 };

	assert_int_equal(run_str(in, page, &f), 1);
	assert_string_equal(f.kind, "hidden_link");
	assert_string_equal(f.what, link);
	assert_memory_equal(page + f.offset, "<a", 2);
}

static void
expect_clean(const struct inspector *in, const char *page)
{
	struct inspect_finding f = { 0 };

	assert_int_equal(run_str(in, page, &f), 0);
}

static void
test_hiding_tricks(void **state)
{
	static const char *const pages[] = {
		"<div style=\"display:none\"><a href=\"http://spam.example/x\">x</a></div>",
		"<div style='DISPLAY : NONE !important'><p><a href='http://spam.example/x'>x</a></p></div>",
		"<div style=\"visibility:hidden\"><a href=\"http://spam.example/x\">x</a></div>",
		"<span style=\"font-size:0px\"><a href=\"http://spam.example/x\">x</a></span>",
		"<span style=\"font-size:0\"><a href=\"http://spam.example/x\">x</a></span>",
		"<div style=\"width:1px;height:1px;overflow:hidden\"><a href=\"http://spam.example/x\">x</a></div>",
		"<div style=\"height:0;overflow:hidden\"><a href=\"http://spam.example/x\">x</a></div>",
		"<div style=\"position:absolute;left:-9999px\"><a href=\"http://spam.example/x\">x</a></div>",
		"<div style=\"position:absolute; top:-1000px\"><a href=\"http://spam.example/x\">x</a></div>",
		"<p style=\"text-indent:-9999px\"><a href=\"http://spam.example/x\">x</a></p>",
		"<div style=\"color:#fff;background-color:#fff\"><a href=\"http://spam.example/x\">x</a></div>",
		"<marquee height=\"1\"><a href=\"http://spam.example/x\">x</a></marquee>",
		"<marquee height=0 width=0><a href=http://spam.example/x>x</a></marquee>",
		"<a style=\"display:none\" href=\"https://spam.example/x\">x</a>",
		"<div style=display:none><div><ul><li><a href=\"//spam.example/x\">x</a></li></ul></div></div>",
	};
	const char *links[] = {
		"http://spam.example/x", "http://spam.example/x", "http://spam.example/x",
		"http://spam.example/x", "http://spam.example/x", "http://spam.example/x",
		"http://spam.example/x", "http://spam.example/x", "http://spam.example/x",
		"http://spam.example/x", "http://spam.example/x", "http://spam.example/x",
		"http://spam.example/x", "https://spam.example/x", "//spam.example/x",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		expect_link(NULL, pages[i], links[i]);
}

static void
test_visible_links(void **state)
{
	(void)state;
	expect_clean(NULL, "<div><a href=\"http://other.example/\">ok</a></div>");
	/* the hidden block ended before the link */
	expect_clean(NULL, "<div style=\"display:none\">x</div><a href=\"http://other.example/\">ok</a>");
	expect_clean(NULL, "<div style=\"display:block\"><a href=\"http://other.example/\">ok</a></div>");
	expect_clean(NULL, "<div style=\"width:1px\"><a href=\"http://other.example/\">ok</a></div>");
	expect_clean(NULL, "<div style=\"position:absolute;left:-10px\"><a href=\"http://o.example/\">o</a></div>");
	expect_clean(NULL, "<div style=\"color:#000;background-color:#fff\"><a href=\"http://o.example/\">o</a></div>");
	expect_clean(NULL, "<marquee height=\"20\"><a href=\"http://o.example/\">o</a></marquee>");
	/* a void element does not stay open */
	expect_clean(NULL, "<img style=\"display:none\"><a href=\"http://other.example/\">ok</a>");
	/* inside a comment */
	expect_clean(NULL, "<!-- <div style=\"display:none\"> --><a href=\"http://other.example/\">ok</a>");
}

static void
test_same_site(void **state)
{
	struct inspector *in = NULL;

	(void)state;
	assert_int_equal(inspector_new(&in), 0);
	assert_int_equal(inspector_add_own_host(in, "Gov.Example"), 0);
	/* relative links never count */
	expect_clean(in, "<div style=\"display:none\"><a href=\"/news/1.html\">x</a></div>");
	expect_clean(in, "<div style=\"display:none\"><a href=\"news/1.html\">x</a></div>");
	expect_clean(in, "<div style=\"display:none\"><a href=\"javascript:void(0)\">x</a></div>");
	/* own host and its subdomains, any case, with port or user info */
	expect_clean(in, "<div style=\"display:none\"><a href=\"http://gov.example/a\">x</a></div>");
	expect_clean(in, "<div style=\"display:none\"><a href=\"HTTPS://WWW.GOV.EXAMPLE:8443/a\">x</a></div>");
	expect_clean(in, "<div style=\"display:none\"><a href=\"http://u@gov.example/a\">x</a></div>");
	/* not own: a look-alike, and user info hiding the real host */
	expect_link(in, "<div style=\"display:none\"><a href=\"http://evilgov.example/a\">x</a></div>",
		"http://evilgov.example/a");
	expect_link(in, "<div style=\"display:none\"><a href=\"http://gov.example@spam.example/\">x</a></div>",
		"http://gov.example@spam.example/");
	inspector_free(in);
}

static char *
to_gb18030(const char *utf8, size_t *ret_len)
{
	iconv_t cd = iconv_open("GB18030", "UTF-8");
	size_t inleft = strlen(utf8), cap = inleft * 2 + 16, outleft = cap;
	char *out = xmalloc(cap), *ip = (char *)utf8, *op = out;

	assert_true(cd != (iconv_t)-1);
	assert_true(iconv(cd, &ip, &inleft, &op, &outleft) != (size_t)-1);
	iconv_close(cd);
	*ret_len = cap - outleft;
	return out;
}

static void
test_keywords(void **state)
{
	struct inspector *in = NULL;
	struct inspect_finding f = { 0 };
	const char *page = "<html><meta charset=\"utf-8\"><p>这里有赌博网站 Casino Bonus</p></html>";
	char *gb;
	size_t gblen;

	(void)state;
	assert_int_equal(inspector_new(&in), 0);
	assert_int_equal(inspector_add_keyword(in, "赌博网站"), 0);
	assert_int_equal(inspector_add_keyword(in, "casino bonus"), 0);
	assert_int_equal(inspector_add_keyword(in, ""), -EINVAL);
	assert_int_equal(inspector_add_keyword(in, "\xff\xfe"), -EINVAL);
	assert_int_equal(inspector_keywords(in), 2);

	assert_int_equal(run_str(in, page, &f), 1);
	assert_string_equal(f.kind, "keyword");
	assert_string_equal(f.what, "赌博网站");
	assert_memory_equal(page + f.offset, "赌博网站", strlen("赌博网站"));

	/* ASCII in any case */
	assert_int_equal(run_str(in, "<p>CASINO BONUS today</p>", &f), 1);
	assert_string_equal(f.what, "casino bonus");
	assert_int_equal(f.offset, 3);
	expect_clean(in, "<p>casino  bonus; 赌博 网站</p>");

	/* GB18030, declared */
	gb = to_gb18030("<meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\">"
			"<p>欢迎 赌博网站</p>", &gblen);
	assert_int_equal(run(in, gb, gblen, &f), 1);
	assert_string_equal(f.what, "赌博网站");
	free(gb);
	/* GB18030, undeclared (not valid UTF-8) */
	gb = to_gb18030("<p>欢迎光临本站 赌博网站</p>", &gblen);
	assert_int_equal(run(in, gb, gblen, &f), 1);
	assert_string_equal(f.what, "赌博网站");
	free(gb);
	/* a GB page without the keyword */
	gb = to_gb18030("<meta charset=gbk><p>欢迎光临本站</p>", &gblen);
	assert_int_equal(run(in, gb, gblen, &f), 0);
	free(gb);
	inspector_free(in);
}

/* Hidden by a <style> sheet of the page: by class, by id, by an ancestor
 * of the link, inside @media, after comments; and sheets that hide nothing,
 * or hide something else, leave visible links alone. */
static void
test_style_sheets(void **state)
{
	static const char *const hidden[] = {
		"<style>.hd{display:none}</style><div class=\"x hd\"><a href=\"http://spam.example/x\">x</a></div>",
		"<style type=\"text/css\">\n#box { position: absolute; left: -9999px }\n</style>"
			"<div id=\"box\"><p><a href=\"http://spam.example/x\">x</a></p></div>",
		"<style>/* links */ #links a, .other { display : none !important }</style>"
			"<p id=\"links\"><a href=\"http://spam.example/x\">x</a></p>",
		"<STYLE>@media screen { .m { visibility:hidden } }</STYLE><span class=\"m\"><a href=\"http://spam.example/x\">x</a></span>",
		"<style>div.tiny{height:1px;overflow:hidden}</style><div class=\"tiny\"><a href=\"http://spam.example/x\">x</a></div>",
		"<style>.same{color:#fff;background-color:#fff}</style><a class=\"same\" href=\"http://spam.example/x\">x</a>",
		/* the sheet after the element still counts */
		"<div class=\"late\"><a href=\"http://spam.example/x\">x</a></div><style>.late{font-size:0}</style>",
	};
	static const char *const visible[] = {
		"<style>.v{color:red}</style><div class=\"v\"><a href=\"http://spam.example/x\">x</a></div>",
		"<style>.hd{display:none}</style><div class=\"hdx\"><a href=\"http://spam.example/x\">x</a></div>",
		"<style>.hd{display:none}</style><div class=\"hd\"></div><a href=\"http://spam.example/x\">x</a>",
		"<style>#nav li{display:none}</style><ul id=\"nav\"><a href=\"http://spam.example/x\">x</a></ul>",
		"<style>.hd{display:none</style><div><a href=\"http://spam.example/x\">x</a></div>",
		"<style>{}}}{{.a</style><a href=\"http://spam.example/x\">x</a>",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
		expect_link(NULL, hidden[i], "http://spam.example/x");
	for (size_t i = 0; i < sizeof(visible) / sizeof(visible[0]); i++)
		expect_clean(NULL, visible[i]);
}

/* Keywords split by markup or written as character references are found,
 * with the offset of their first byte in the page. */
static void
test_keywords_in_text(void **state)
{
	struct inspector *in = NULL;
	struct inspect_finding f = { 0 };
	const char *split = "<p>欢迎 赌<span style=\"color:red\">博</span><!-- x -->网站</p>";
	const char *refs = "<p>&#36172;&#x535A;&#32593;&#31449;</p>";

	(void)state;
	assert_int_equal(inspector_new(&in), 0);
	assert_int_equal(inspector_add_keyword(in, "赌博网站"), 0);
	assert_int_equal(inspector_add_keyword(in, "casino bonus"), 0);
	assert_int_equal(run_str(in, split, &f), 1);
	assert_string_equal(f.what, "赌博网站");
	assert_memory_equal(split + f.offset, "赌", strlen("赌"));
	assert_int_equal(run_str(in, refs, &f), 1);
	assert_string_equal(f.what, "赌博网站");
	assert_memory_equal(refs + f.offset, "&#36172;", 8);
	assert_int_equal(run_str(in, "<b>CASINO</b>&nbsp;<i>Bonus</i>", &f), 1);
	assert_string_equal(f.what, "casino bonus");
	assert_int_equal(f.offset, 3);
	/* references that are no characters stay as they are */
	expect_clean(in, "<p>&#0;&#xD800;&#x110000;&bogus; &#36172 &#;</p>");
	expect_clean(in, "<p>赌</p><p>博 网站</p>");
	inspector_free(in);
}

static void
test_keyword_file(void **state)
{
	char path[] = "/tmp/test_inspect_kwXXXXXX";
	const char *text = "\xef\xbb\xbf# harmful keywords\n"
			   "\n"
			   "  赌博网站  \n"
			   "# casino\n"
			   "Fake Pharmacy\r\n"
			   "last-line-no-newline";
	struct inspector *in = NULL;
	struct inspect_finding f = { 0 };
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(inspector_new(&in), 0);
	assert_int_equal(inspector_add_keywords_file(in, path), 0);
	assert_int_equal(inspector_keywords(in), 3);
	expect_clean(in, "<p>casino</p><p># harmful keywords</p>");
	assert_int_equal(run_str(in, "buy at fake pharmacy now", &f), 1);
	assert_string_equal(f.what, "fake pharmacy");
	assert_int_equal(run_str(in, "x last-line-no-newline", &f), 1);
	assert_int_equal(inspector_add_keywords_file(in, "/nonexistent/kw.txt"), -ENOENT);
	inspector_free(in);

	/* a line that is not UTF-8 is refused */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "ok\n\xc3\x28\n", 6), 6);
	close(fd);
	assert_int_equal(inspector_new(&in), 0);
	assert_int_equal(inspector_add_keywords_file(in, path), -EINVAL);
	inspector_free(in);
	unlink(path);
}

static void
test_garbage(void **state)
{
	struct inspector *in = NULL;
	struct inspect_finding f;
	unsigned char buf[65536];
	uint32_t x = 12345;

	(void)state;
	assert_int_equal(inspector_new(&in), 0);
	assert_int_equal(inspector_add_keyword(in, "never-in-random-bytes-xyz"), 0);
	for (int round = 0; round < 8; round++) {
		for (size_t i = 0; i < sizeof(buf); i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = (unsigned char)(x >> 16);
			if (round & 1)	/* lots of tag syntax */
				buf[i] = (unsigned char)"<>/=\"' a=:;\0xhref"[buf[i] % 17];
		}
		assert_true(run(in, (const char *)buf, sizeof(buf), &f) >= 0);
	}
	assert_int_equal(run(in, "", 0, &f), 0);
	inspector_free(in);
}

static void
test_cap(void **state)
{
	struct inspect_finding f;
	char *big = xcalloc(1, INSPECT_MAX_BYTES + 1);

	(void)state;
	memset(big, ' ', INSPECT_MAX_BYTES + 1);
	assert_int_equal(inspect_content(NULL, big, INSPECT_MAX_BYTES + 1, &f), -E2BIG);
	assert_int_equal(inspect_content(NULL, big, INSPECT_MAX_BYTES, &f), 0);
	free(big);
	assert_true(inspect_wants("index.html", 100));
	assert_true(inspect_wants("a/b/INDEX.HTM", 0));
	assert_true(inspect_wants("x.shtml", 0));
	assert_true(inspect_wants("x.PHP", 0));
	assert_true(inspect_wants("x.jsp", 0));
	assert_true(inspect_wants("x.asp", 0));
	assert_true(inspect_wants("x.aspx", 0));
	assert_true(inspect_wants("x.js", 0));
	assert_true(inspect_wants("robots.txt", 0));
	assert_true(inspect_wants("index.html", INSPECT_MAX_BYTES));
	assert_false(inspect_wants("index.html", INSPECT_MAX_BYTES + 1ull));
	assert_false(inspect_wants("logo.png", 0));
	assert_false(inspect_wants("x.json", 0));
	assert_false(inspect_wants(".html", 0));
	assert_false(inspect_wants("dir/.js", 0));
	assert_false(inspect_wants("html", 0));
}

static void
test_every_prefix(void **state)
{
	const char *page =
		"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>t</title></head><body>"
		"<!-- c --><div class=x style=\"position:absolute; left:-9999px\" id='y'>"
		"<p><a title=\"a > b\" href=\"http://spam.example/p?q=1\">spam</a></p></div>"
		"<marquee height=1><a href='https://s2.example/'>s</a></marquee></body></html>";
	size_t n = strlen(page);
	struct inspector *in = NULL;
	struct inspect_finding f;

	(void)state;
	assert_int_equal(inspector_new(&in), 0);
	assert_int_equal(inspector_add_keyword(in, "spam</a>"), 0);
	for (size_t k = 0; k <= n; k++)
		assert_true(run(in, page, k, &f) >= 0);
	inspector_free(in);
	expect_link(NULL, page, "http://spam.example/p?q=1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hiding_tricks),
		cmocka_unit_test(test_visible_links),
		cmocka_unit_test(test_same_site),
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_keyword_file),
		cmocka_unit_test(test_style_sheets),
		cmocka_unit_test(test_keywords_in_text),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_every_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
