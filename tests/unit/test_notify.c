/* test_notify.c - sending notices: each channel's body read back, the robots'
 * signatures against OpenSSL's command line, answers judged, and real sends
 * over loopback to receivers this test runs itself (an HTTP receiver that
 * works, fails, refuses by errcode; a port that accepts and never answers; a
 * closed port; an SMTP receiver). Backoff is real (1 s, 2 s), so the network
 * tests take a few seconds each. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/base64.h"
#include "core/buf.h"
#include "core/json_get.h"
#include "core/timeutil.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "notify/notify.h"
#include "tls/hmac.h"
#include "tls/tls.h"
#include "core/banned.h"

#define NS_PER_S	((int64_t)1000000000)
/* 2023-11-14T22:13:20.123Z: fixed, so signatures can be recomputed. */
#define T0_NS		(1700000000 * NS_PER_S + 123456789)
#define SUBJECT		"【网络安全事件】门户网站被篡改 (Ⅱ级)"
#define TEXT		"某县司法局门户网站首页被篡改。\n请值班人员立即处置。\n.a line starting with a dot"

/* ---- helpers: messages, JSON, base64 ---- */

static struct notify_message *
message(enum plan_channel_kind kind, const char *url, const char *secret)
{
	struct plan_channel ch = {
		.id = "ch-test", .kind = kind, .url = (char *)url, .secret = (char *)secret,
		.from = "yingji@example.gov.cn", .timeout_ns = 5 * NS_PER_S, .retries = 0,
	};
	struct notify_message *m = notify_message_new(&ch);

	m->id = 42;
	m->subject = xstrdup(SUBJECT);
	m->text = xstrdup(TEXT);
	return m;
}

static char *
render(const struct notify_message *m)
{
	char *body = NULL;
	size_t len = 0;

	assert_int_equal(notify_render(m, T0_NS, &body, &len), 0);
	assert_int_equal(strlen(body), len);
	return body;
}

/* The string at key of obj, as a new string. */
static char *
get_str(const char *obj, size_t len, const char *key)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	assert_int_equal(json_get_str(obj, len, key, &b), 0);
	return buf_detach(&b, NULL);
}

/* The raw text of the object at key, pointing into obj. */
static const char *
get_obj(const char *obj, size_t *len, const char *key)
{
	const char *v = NULL;
	size_t vlen = 0;

	assert_int_equal(json_get_raw(obj, *len, key, &v, &vlen), 0);
	*len = vlen;
	return v;
}

static void
assert_key_str(const char *obj, size_t len, const char *key, const char *want)
{
	char *got = get_str(obj, len, key);

	assert_string_equal(got, want);
	free(got);
}

/* The elements of the string array arr, joined with ','. */
static char *
array_joined(const char *arr, size_t len)
{
	const char *v;
	size_t pos = 0, vlen;
	struct buf b;

	buf_init(&b, 1 << 16);
	while (json_array_next(arr, len, &pos, &v, &vlen) == 0) {
		if (b.len > 0)
			assert_int_equal(buf_putc(&b, ','), 0);
		assert_true(vlen >= 2 && v[0] == '"');
		assert_int_equal(buf_append(&b, v + 1, vlen - 2), 0);
	}
	return buf_detach(&b, NULL);
}

static int
b64_value(char c)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c != '\0' ? strchr(a, c) : NULL;

	return p != NULL ? (int)(p - a) : -1;
}

/* Decodes base64 s[0..len), skipping CR/LF; appends to out. */
static void
b64_decode(const char *s, size_t len, struct buf *out)
{
	uint32_t acc = 0;
	int bits = 0;

	for (size_t i = 0; i < len; i++) {
		int v;

		if (s[i] == '\r' || s[i] == '\n')
			continue;
		if (s[i] == '=')
			break;
		v = b64_value(s[i]);
		assert_true(v >= 0);
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			assert_int_equal(buf_putc(out, (char)(acc >> bits & 0xff)), 0);
		}
	}
}

/* Runs cmd and returns its first output line (NULL when it fails). */
static char *
shell_line(const char *cmd)
{
	char line[512];
	FILE *f = popen(cmd, "r");
	char *out = NULL;

	if (f == NULL)
		return NULL;
	if (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		out = xstrdup(line);
	}
	if (pclose(f) != 0) {
		free(out);
		out = NULL;
	}
	return out;
}

/* base64(HMAC-SHA256) as the openssl command line computes it. */
static char *
openssl_hmac_b64(const char *key, const char *msg)
{
	char hexkey[256], cmd[1024];

	for (size_t i = 0; key[i] != '\0'; i++)
		snprintf(hexkey + 2 * i, 3, "%02x", (unsigned char)key[i]);
	/* printf's %s keeps msg's newline literal: the shell never sees it */
	snprintf(cmd, sizeof(cmd),
		"printf '%%s' '%s' | openssl dgst -sha256 -mac HMAC -macopt hexkey:%s -binary"
		" | base64",
		msg, hexkey);
	return shell_line(cmd);
}

static bool
have_openssl_cli(void)
{
	char *v = shell_line("openssl version 2>/dev/null");
	bool ok = v != NULL;

	free(v);
	return ok;
}

/* ---- rendering ---- */

static void
wecom_body_mentions_phones(void **state)
{
	struct notify_message *m = message(CHANNEL_WECOM, "https://qyapi.weixin.qq.com/x", NULL);
	const char *text;
	char *body, *s;
	size_t len, tlen;

	assert_int_equal(notify_message_add_recipient(m, "13800001111"), 0);
	assert_int_equal(notify_message_add_recipient(m, "13900002222"), 0);
	body = render(m);
	len = strlen(body);
	assert_key_str(body, len, "msgtype", "text");
	tlen = len;
	text = get_obj(body, &tlen, "text");
	assert_key_str(text, tlen, "content", SUBJECT "\n" TEXT);
	{
		size_t alen = tlen;
		const char *arr = get_obj(text, &alen, "mentioned_mobile_list");

		s = array_joined(arr, alen);
		assert_string_equal(s, "13800001111,13900002222");
		free(s);
	}
	free(body);
	notify_message_free(m);
}

static void
wecom_long_text_is_cut_at_a_character(void **state)
{
	/* WeCom refuses content over 2048 bytes: it is cut, whole
	 * characters only, and says so with "…". */
	struct notify_message *m = message(CHANNEL_WECOM, "https://qyapi.weixin.qq.com/x", NULL);
	const char *text;
	struct buf big;
	char *body, *content;
	size_t len;

	buf_init(&big, 0);
	for (int i = 0; i < 1500; i++)
		assert_int_equal(buf_puts(&big, "汉"), 0);
	free(m->text);
	m->text = buf_detach(&big, NULL);
	body = render(m);
	len = strlen(body);
	text = get_obj(body, &len, "text");
	content = get_str(text, len, "content");
	assert_true(strlen(content) <= 2048);
	assert_true(strlen(content) > 2000);
	assert_true(utf8_valid(content, strlen(content)));
	assert_string_equal(content + strlen(content) - 3, "…");
	assert_memory_equal(content, SUBJECT "\n", strlen(SUBJECT) + 1);
	free(content);
	free(body);
	notify_message_free(m);
}

static void
dingtalk_body_and_signed_url(void **state)
{
	struct notify_message *m = message(CHANNEL_DINGTALK,
		"https://oapi.dingtalk.com/robot/send?access_token=abc", "SECdeadbeef0123");
	const char *text, *at;
	char *body, *s, *url = NULL, *sign, want[512], esc[256];
	size_t len, tlen, alen, e = 0;

	assert_int_equal(notify_message_add_recipient(m, "13800001111"), 0);
	body = render(m);
	len = strlen(body);
	assert_key_str(body, len, "msgtype", "text");
	tlen = len;
	text = get_obj(body, &tlen, "text");
	/* the @mention is in the content too, or DingTalk does not show it */
	assert_key_str(text, tlen, "content", SUBJECT "\n" TEXT "\n@13800001111");
	alen = len;
	at = get_obj(body, &alen, "at");
	{
		size_t mlen = alen;
		const char *arr = get_obj(at, &mlen, "atMobiles");

		s = array_joined(arr, mlen);
		assert_string_equal(s, "13800001111");
		free(s);
	}
	free(body);

	/* timestamp in ms; sign = urlencode(base64(HMAC(secret, ts "\n" secret))) */
	assert_int_equal(notify_url(m, T0_NS, &url), 0);
	if (!have_openssl_cli()) {
		free(url);
		notify_message_free(m);
		skip();
	}
	sign = openssl_hmac_b64("SECdeadbeef0123", "1700000000123\nSECdeadbeef0123");
	assert_non_null(sign);
	for (const char *p = sign; *p != '\0'; p++) {
		if (*p == '+' || *p == '/' || *p == '=')
			e += (size_t)snprintf(esc + e, sizeof(esc) - e, "%%%02X", *p);
		else
			esc[e++] = *p;
	}
	esc[e] = '\0';
	snprintf(want, sizeof(want),
		"https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1700000000123"
		"&sign=%s",
		esc);
	assert_string_equal(url, want);
	free(sign);
	free(url);

	/* without a secret the URL is left alone */
	free(m->secret);
	m->secret = NULL;
	assert_int_equal(notify_url(m, T0_NS, &url), 0);
	assert_string_equal(url, "https://oapi.dingtalk.com/robot/send?access_token=abc");
	free(url);
	notify_message_free(m);
}

static void
hmac_matches_rfc4231(void **state)
{
	/* RFC 4231 test case 2: key "Jefe". */
	static const uint8_t want[32] = { 0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a,
		0x04, 0x24, 0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39,
		0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43 };
	const char *msg = "what do ya want for nothing?";
	uint8_t mac[HMAC_SHA256_LEN];
	char b64[64];

	hmac_sha256("Jefe", 4, msg, strlen(msg), mac);
	assert_memory_equal(mac, want, 32);
	base64_encode("", 0, b64);
	assert_string_equal(b64, "");
	base64_encode("f", 1, b64);
	assert_string_equal(b64, "Zg==");
	base64_encode("fo", 2, b64);
	assert_string_equal(b64, "Zm8=");
	base64_encode("foobar", 6, b64);
	assert_string_equal(b64, "Zm9vYmFy");
}

static void
feishu_body_signed_inside(void **state)
{
	struct notify_message *m = message(CHANNEL_FEISHU,
		"https://open.feishu.cn/open-apis/bot/v2/hook/x", "fs-secret-1");
	const char *content;
	char *body, *sign, *url = NULL;
	size_t len, clen;

	body = render(m);
	len = strlen(body);
	assert_key_str(body, len, "msg_type", "text");
	assert_key_str(body, len, "timestamp", "1700000000");	/* seconds, a string */
	clen = len;
	content = get_obj(body, &clen, "content");
	assert_key_str(content, clen, "text", SUBJECT "\n" TEXT);
	/* Feishu's way round: the string to sign is the key, the message empty */
	if (have_openssl_cli()) {
		sign = openssl_hmac_b64("1700000000\nfs-secret-1", "");
		assert_non_null(sign);
		assert_key_str(body, len, "sign", sign);
		free(sign);
	}
	free(body);
	/* the URL carries nothing */
	assert_int_equal(notify_url(m, T0_NS, &url), 0);
	assert_string_equal(url, "https://open.feishu.cn/open-apis/bot/v2/hook/x");
	free(url);

	/* no secret: no timestamp, no sign */
	free(m->secret);
	m->secret = NULL;
	body = render(m);
	len = strlen(body);
	{
		const char *v;
		size_t vlen;

		assert_int_equal(json_get_raw(body, len, "sign", &v, &vlen), -ENOENT);
		assert_int_equal(json_get_raw(body, len, "timestamp", &v, &vlen), -ENOENT);
	}
	free(body);
	notify_message_free(m);
}

static void
webhook_body_has_the_fields(void **state)
{
	struct notify_message *m = message(CHANNEL_WEBHOOK, "http://10.0.0.5/hook", NULL);
	const char *arr;
	char *body, *s;
	size_t len, alen;
	int64_t id = 0;

	assert_int_equal(notify_message_add_recipient(m, "duty@example.gov.cn"), 0);
	body = render(m);
	len = strlen(body);
	assert_key_str(body, len, "subject", SUBJECT);
	assert_key_str(body, len, "text", TEXT);
	assert_key_str(body, len, "sent_at", "2023-11-15T06:13:20.123456789+08:00");
	assert_int_equal(json_get_i64(body, len, "id", &id), 0);
	assert_int_equal(id, 42);
	alen = len;
	arr = get_obj(body, &alen, "recipients");
	s = array_joined(arr, alen);
	assert_string_equal(s, "duty@example.gov.cn");
	free(s);
	free(body);
	notify_message_free(m);
}

/* The value of header name in an RFC 5322 message, unfolded. */
static char *
header_value(const char *msg, const char *name)
{
	const char *end = strstr(msg, "\r\n\r\n"), *p = msg;
	size_t n = strlen(name);
	struct buf b;

	assert_non_null(end);
	buf_init(&b, 1 << 16);
	while (p < end) {
		const char *eol = strstr(p, "\r\n");

		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;

			for (;;) {
				assert_int_equal(buf_append(&b, v, (size_t)(eol - v)), 0);
				if (eol[2] != ' ' && eol[2] != '\t')
					break;
				v = eol + 2;
				eol = strstr(v, "\r\n");
			}
			return buf_detach(&b, NULL);
		}
		p = eol + 2;
	}
	buf_release(&b);
	return NULL;
}

/* Decodes a header of RFC 2047 B-encoded words (and the spaces between). */
static char *
decode_rfc2047(const char *v)
{
	struct buf b;

	buf_init(&b, 1 << 16);
	while ((v = strstr(v, "=?UTF-8?B?")) != NULL) {
		const char *end;

		v += 10;
		end = strstr(v, "?=");
		assert_non_null(end);
		assert_true(end - v <= 75 - 12);	/* an encoded word is <= 75 chars */
		b64_decode(v, (size_t)(end - v), &b);
		v = end + 2;
	}
	return buf_detach(&b, NULL);
}

/* What a mail reader shows: the subject and the text (CRLF back to LF). */
static void
assert_email_readable(const char *msg, const char *subject, const char *text)
{
	const char *body = strstr(msg, "\r\n\r\n") + 4;
	char *v, *dec;
	struct buf b;
	size_t o = 0;

	v = header_value(msg, "Subject");
	assert_non_null(v);
	dec = decode_rfc2047(v);
	assert_string_equal(dec, subject);
	free(dec);
	free(v);

	buf_init(&b, 1 << 20);
	b64_decode(body, strlen(body), &b);
	for (size_t i = 0; i < b.len; i++) {
		if (b.data[i] == '\r') {
			assert_true(i + 1 < b.len && b.data[i + 1] == '\n');
			continue;
		}
		b.data[o++] = b.data[i];
	}
	b.data[o] = '\0';
	assert_string_equal(b.data, text);
	buf_release(&b);
}

static void
email_is_rfc5322_with_utf8_subject(void **state)
{
	struct notify_message *m = message(CHANNEL_EMAIL, "smtp://127.0.0.1:25", NULL);
	char *msg, *v;
	const char *p;

	assert_int_equal(notify_message_add_recipient(m, "duty@example.gov.cn"), 0);
	assert_int_equal(notify_message_add_recipient(m, "leader@example.gov.cn"), 0);
	msg = render(m);
	/* 2023-11-14T22:13:20Z is a Wednesday morning in Beijing */
	v = header_value(msg, "Date");
	assert_string_equal(v, " Wed, 15 Nov 2023 06:13:20 +0800");
	free(v);
	v = header_value(msg, "From");
	assert_string_equal(v, " yingji@example.gov.cn");
	free(v);
	v = header_value(msg, "To");
	assert_string_equal(v, " duty@example.gov.cn, leader@example.gov.cn");
	free(v);
	v = header_value(msg, "Message-ID");
	assert_non_null(strstr(v, "@example.gov.cn>"));
	free(v);
	v = header_value(msg, "Content-Type");
	assert_string_equal(v, " text/plain; charset=UTF-8");
	free(v);
	v = header_value(msg, "Content-Transfer-Encoding");
	assert_string_equal(v, " base64");
	free(v);
	v = header_value(msg, "MIME-Version");
	assert_string_equal(v, " 1.0");
	free(v);
	/* every line within RFC 5322's 78 characters, body lines within 76 */
	for (p = msg; *p != '\0';) {
		const char *eol = strstr(p, "\r\n");

		assert_non_null(eol);
		assert_true(eol - p <= 78);
		assert_null(memchr(p, '\n', (size_t)(eol - p)));
		p = eol + 2;
	}
	assert_email_readable(msg, SUBJECT, TEXT);
	free(msg);
	notify_message_free(m);
}

static void
email_refuses_bad_addresses(void **state)
{
	/* A CR/LF in an address would inject headers or SMTP commands. */
	struct notify_message *m = message(CHANNEL_EMAIL, "smtp://127.0.0.1:25", NULL);
	char *body = NULL;
	size_t len;

	assert_int_equal(notify_render(m, T0_NS, &body, &len), -EINVAL);	/* nobody */
	assert_int_equal(notify_message_add_recipient(m, "a@b.cn\r\nRCPT TO:<x@evil>"), 0);
	assert_int_equal(notify_render(m, T0_NS, &body, &len), -EINVAL);
	free(m->recipients[0]);
	m->recipients[0] = xstrdup("duty@example.gov.cn");
	free(m->from);
	m->from = xstrdup("Bcc: x@evil");
	assert_int_equal(notify_render(m, T0_NS, &body, &len), -EINVAL);
	free(m->from);
	m->from = NULL;
	assert_int_equal(notify_render(m, T0_NS, &body, &len), -EINVAL);
	assert_null(body);
	notify_message_free(m);
}

static void
render_limits(void **state)
{
	struct notify_message *m = message(CHANNEL_WEBHOOK, "http://10.0.0.5/hook", NULL);
	char *body = NULL;
	size_t len;

	free(m->text);
	m->text = xmalloc(NOTIFY_TEXT_MAX + 1);
	memset(m->text, 'x', NOTIFY_TEXT_MAX);
	m->text[NOTIFY_TEXT_MAX] = '\0';
	assert_int_equal(notify_render(m, T0_NS, &body, &len), -E2BIG);
	m->text[NOTIFY_TEXT_MAX - strlen(SUBJECT)] = '\0';
	assert_int_equal(notify_render(m, T0_NS, &body, &len), 0);
	free(body);
	body = NULL;
	m->kind = (enum plan_channel_kind)99;
	assert_int_equal(notify_render(m, T0_NS, &body, &len), -EINVAL);
	for (int i = 0; i < NOTIFY_RECIPIENTS_MAX; i++)
		assert_int_equal(notify_message_add_recipient(m, "13800001111"), 0);
	assert_int_equal(notify_message_add_recipient(m, "13800001111"), -E2BIG);
	notify_message_free(m);
	notify_message_free(NULL);
}

/* ---- answers ---- */

static bool
answer(enum plan_channel_kind kind, long status, const char *body, char *error, size_t size)
{
	return notify_answer_ok(kind, status, body, strlen(body), error, size);
}

static void
answers_judged(void **state)
{
	char e[256];

	assert_true(answer(CHANNEL_WEBHOOK, 200, "", e, sizeof(e)));
	assert_true(answer(CHANNEL_WEBHOOK, 204, "whatever", e, sizeof(e)));
	assert_false(answer(CHANNEL_WEBHOOK, 500, "", e, sizeof(e)));
	assert_string_equal(e, "HTTP 500");
	assert_false(answer(CHANNEL_WEBHOOK, 302, "", e, sizeof(e)));
	assert_string_equal(e, "HTTP 302");

	assert_true(answer(CHANNEL_WECOM, 200, "{\"errcode\":0,\"errmsg\":\"ok\"}", e, sizeof(e)));
	assert_false(answer(CHANNEL_WECOM, 200,
		"{\"errcode\":93000,\"errmsg\":\"invalid webhook url\"}", e, sizeof(e)));
	assert_string_equal(e, "errcode 93000: invalid webhook url");
	assert_false(answer(CHANNEL_DINGTALK, 200,
		" {\"errmsg\":\"sign not match\", \"errcode\": 310000}", e, sizeof(e)));
	assert_string_equal(e, "errcode 310000: sign not match");
	assert_false(answer(CHANNEL_DINGTALK, 502, "{\"errcode\":0}", e, sizeof(e)));
	assert_string_equal(e, "HTTP 502");
	assert_false(answer(CHANNEL_DINGTALK, 200, "<html>proxy error</html>", e, sizeof(e)));
	assert_non_null(strstr(e, "no errcode"));

	assert_true(answer(CHANNEL_FEISHU, 200, "{\"code\":0,\"data\":{},\"msg\":\"success\"}", e,
		sizeof(e)));
	assert_true(answer(CHANNEL_FEISHU, 200,
		"{\"Extra\":null,\"StatusCode\":0,\"StatusMessage\":\"success\"}", e, sizeof(e)));
	assert_false(answer(CHANNEL_FEISHU, 200,
		"{\"code\":19021,\"data\":{},\"msg\":\"sign match fail or timestamp is not within "
		"one hour from current time\"}",
		e, sizeof(e)));
	assert_string_equal(e, "code 19021: sign match fail or timestamp is not within one hour "
			       "from current time");
	assert_false(answer(CHANNEL_FEISHU, 200, "{\"StatusCode\":9499,\"StatusMessage\":\"Bad\"}",
		e, sizeof(e)));
	assert_string_equal(e, "StatusCode 9499: Bad");

	assert_true(answer(CHANNEL_EMAIL, 250, "", e, sizeof(e)));
	assert_false(answer(CHANNEL_EMAIL, 550, "", e, sizeof(e)));
	assert_string_equal(e, "SMTP 550");
}

static void
answer_errors_are_safe_text(void **state)
{
	/* A robot's errmsg goes to the delivery log: no control characters,
	 * and a cut never splits a character. */
	char e[256], small[20];

	assert_false(answer(CHANNEL_WECOM, 200,
		"{\"errcode\":1,\"errmsg\":\"line\\nbreak\\u0000nul\\u001b[31m\"}", e, sizeof(e)));
	assert_null(strchr(e, '\n'));
	assert_null(strchr(e, '\x1b'));
	assert_true(strncmp(e, "errcode 1: line break", 21) == 0);
	assert_false(answer(CHANNEL_WECOM, 200, "{\"errcode\":45009,\"errmsg\":\"接口调用超过限制\"}",
		small, sizeof(small)));
	assert_true(strlen(small) < sizeof(small));
	assert_true(utf8_valid(small, strlen(small)));
	assert_string_equal(small, "errcode 45009: 接");
	assert_false(notify_answer_ok(CHANNEL_WECOM, 200, NULL, 0, e, sizeof(e)));
}

/* ---- loopback receivers ---- */

enum srv_mode { SRV_OK, SRV_500_TWICE, SRV_ERRCODE, SRV_ROBOT_OK };

struct srv {
	int		 lfd, port;
	enum srv_mode	 mode;
	struct tls_ctx	*tls;		/* NULL: plain HTTP */
	pthread_t	 thread;
	atomic_bool	 stop;
	pthread_mutex_t	 lock;
	int		 requests;
	char		 target[2048];
	char		 head[8192];
	char		*body;
	size_t		 body_len;
};

static int
listen_loopback(int *ret_port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*ret_port = ntohs(sin.sin_port);
	return fd;
}

/* A port nothing listens on (bound once, then closed). */
static int
closed_port(void)
{
	int port, fd = listen_loopback(&port);

	close(fd);
	return port;
}

static void
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void
srv_handle(struct srv *s, int fd)
{
	static const char ok_robot[] = "{\"errcode\":0,\"errmsg\":\"ok\"}";
	static const char bad_robot[] = "{\"errcode\":310000,\"errmsg\":\"sign not match\"}";
	struct timeval tv = { .tv_sec = 5 };
	char *req = xmalloc(256 * 1024), out[512];
	const char *hend, *reply = "ok", *cl;
	struct tls_conn *tc = NULL;
	size_t len = 0, need = 0;
	int n, status = 200;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (s->tls != NULL && (tls_conn_new(s->tls, fd, true, &tc) < 0 ||
				      tls_conn_handshake(tc) < 0))
		goto out;	/* the client refused us: nothing was sent */
	for (;;) {
		ssize_t r = tc != NULL ? tls_conn_read(tc, req + len, 256 * 1024 - 1 - len)
				       : recv(fd, req + len, 256 * 1024 - 1 - len, 0);

		if (r <= 0)
			goto out;
		len += (size_t)r;
		req[len] = '\0';
		hend = strstr(req, "\r\n\r\n");
		if (hend == NULL)
			continue;
		cl = strcasestr(req, "\r\nContent-Length:");
		need = (size_t)(hend + 4 - req) + (cl != NULL ? strtoul(cl + 17, NULL, 10) : 0);
		if (len >= need)
			break;
	}
	pthread_mutex_lock(&s->lock);
	n = ++s->requests;
	{
		const char *t = strchr(req, ' '), *te = t != NULL ? strchr(t + 1, ' ') : NULL;

		if (te != NULL)
			snprintf(s->target, sizeof(s->target), "%.*s", (int)(te - t - 1), t + 1);
	}
	snprintf(s->head, sizeof(s->head), "%.*s", (int)(hend + 4 - req), req);
	free(s->body);
	s->body_len = need - (size_t)(hend + 4 - req);
	s->body = xstrndup(hend + 4, s->body_len);
	pthread_mutex_unlock(&s->lock);

	if (s->mode == SRV_500_TWICE && n <= 2) {
		status = 500;
		reply = "try later";
	} else if (s->mode == SRV_ERRCODE) {
		reply = bad_robot;
	} else if (s->mode == SRV_ROBOT_OK) {
		reply = ok_robot;
	}
	n = snprintf(out, sizeof(out),
		"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
		"Connection: close\r\n\r\n%s",
		status, strlen(reply), reply);
	if (tc != NULL) {
		for (size_t off = 0; off < (size_t)n;) {
			ssize_t w = tls_conn_write(tc, out + off, (size_t)n - off);

			if (w <= 0)
				break;
			off += (size_t)w;
		}
		tls_conn_shutdown(tc);
	} else {
		write_all(fd, out, (size_t)n);
	}
out:
	tls_conn_free(tc);
	free(req);
}

static void *
srv_main(void *arg)
{
	struct srv *s = arg;

	while (!atomic_load(&s->stop)) {
		struct pollfd pfd = { .fd = s->lfd, .events = POLLIN };
		int fd;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		srv_handle(s, fd);
		close(fd);
	}
	return NULL;
}

static void
srv_start_tls(struct srv *s, enum srv_mode mode, struct tls_ctx *tls)
{
	memset(s, 0, sizeof(*s));
	s->mode = mode;
	s->tls = tls;
	pthread_mutex_init(&s->lock, NULL);
	s->lfd = listen_loopback(&s->port);
	assert_int_equal(pthread_create(&s->thread, NULL, srv_main, s), 0);
}

static void
srv_start(struct srv *s, enum srv_mode mode)
{
	srv_start_tls(s, mode, NULL);
}

static void
srv_stop(struct srv *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	close(s->lfd);
	pthread_mutex_destroy(&s->lock);
}

static void
srv_release(struct srv *s)
{
	free(s->body);
	s->body = NULL;
}

static char *
url_for(const char *scheme, int port, const char *path)
{
	return xasprintf("%s://127.0.0.1:%d%s", scheme, port, path);
}

/* ---- results as the caller sees them ---- */

#define LOG_MAX 64

struct rlog {
	struct notify_result r[LOG_MAX];
	size_t		 n;
};

static void
rlog_add(struct rlog *log, struct notify_result *list)
{
	while (list != NULL) {
		struct notify_result *next = list->next;

		assert_true(log->n < LOG_MAX);
		log->r[log->n++] = *list;
		free(list);
		list = next;
	}
}

static void
rlog_pump(struct notifier *n, struct rlog *log, int timeout_ms)
{
	struct pollfd pfd = { .fd = notifier_done_fd(n), .events = POLLIN };

	if (poll(&pfd, 1, timeout_ms) > 0)
		rlog_add(log, notifier_take_done(n));
}

static const struct notify_result *
rlog_final(const struct rlog *log, uint64_t id)
{
	for (size_t i = 0; i < log->n; i++)
		if (log->r[i].id == id && log->r[i].final)
			return &log->r[i];
	return NULL;
}

/* The results for id, in order, into out (at most max); returns how many. */
static size_t
rlog_for(const struct rlog *log, uint64_t id, const struct notify_result **out, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < log->n && k < max; i++)
		if (log->r[i].id == id)
			out[k++] = &log->r[i];
	return k;
}

static size_t
rlog_first_index(const struct rlog *log, uint64_t id)
{
	for (size_t i = 0; i < log->n; i++)
		if (log->r[i].id == id)
			return i;
	return LOG_MAX;
}

static const struct notify_result *
wait_final(struct notifier *n, struct rlog *log, uint64_t id)
{
	int64_t deadline = now_monotonic_ns() + 20 * NS_PER_S;

	while (rlog_final(log, id) == NULL && now_monotonic_ns() < deadline)
		rlog_pump(n, log, 100);
	if (rlog_final(log, id) == NULL) {
		for (size_t i = 0; i < log->n; i++)
			print_message("result id %llu attempt %u sent %d final %d: %s\n",
				(unsigned long long)log->r[i].id, log->r[i].attempt, log->r[i].sent,
				log->r[i].final, log->r[i].error);
	}
	assert_non_null(rlog_final(log, id));
	return rlog_final(log, id);
}

static struct notify_message *
net_message(enum plan_channel_kind kind, const char *chan, char *url, uint64_t id,
	unsigned retries, int64_t timeout_ns)
{
	struct notify_message *m = message(kind, "x", NULL);

	free(m->url);
	m->url = url;
	free(m->channel_id);
	m->channel_id = xstrdup(chan);
	m->id = id;
	m->retries = retries;
	m->timeout_ns = timeout_ns;
	return m;
}

/* ---- real sends ---- */

static void
webhook_delivered_first_time(void **state)
{
	struct notifier *n = NULL;
	struct srv s, robot;
	struct rlog log = { 0 };
	const struct notify_result *r;
	struct notify_message *m;
	char *v, *proxy;

	srv_start(&s, SRV_OK);
	srv_start(&robot, SRV_ROBOT_OK);
	/* A proxy in the environment is not used: it points at a closed port. */
	proxy = url_for("http", closed_port(), "");
	setenv("http_proxy", proxy, 1);
	setenv("HTTP_PROXY", proxy, 1);
	setenv("ALL_PROXY", proxy, 1);
	assert_int_equal(notifier_start(&n), 0);

	m = net_message(CHANNEL_WEBHOOK, "hook", url_for("http", s.port, "/yingji/hook"), 1, 0,
		5 * NS_PER_S);
	assert_int_equal(notify_message_add_recipient(m, "duty@example.gov.cn"), 0);
	notifier_submit(n, m);
	notifier_submit(n, net_message(CHANNEL_WECOM, "wecom", url_for("http", robot.port,
		"/cgi-bin/webhook/send?key=k"), 2, 0, 5 * NS_PER_S));

	r = wait_final(n, &log, 1);
	assert_true(r->sent);
	assert_int_equal(r->attempt, 1);
	assert_int_equal(r->next_try_ns, 0);
	assert_string_equal(r->error, "");
	assert_true(r->time_ns > T0_NS);
	r = wait_final(n, &log, 2);
	assert_true(r->sent);
	assert_int_equal(r->attempt, 1);
	notifier_stop(n);

	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("ALL_PROXY");
	free(proxy);
	srv_stop(&robot);
	srv_stop(&s);
	assert_int_equal(s.requests, 1);
	assert_string_equal(s.target, "/yingji/hook");
	assert_non_null(strcasestr(s.head, "\r\nContent-Type: application/json"));
	v = get_str(s.body, s.body_len, "subject");
	assert_string_equal(v, SUBJECT);
	free(v);
	v = get_str(s.body, s.body_len, "text");
	assert_string_equal(v, TEXT);
	free(v);
	assert_string_equal(robot.target, "/cgi-bin/webhook/send?key=k");
	srv_release(&robot);
	srv_release(&s);
}

static void
server_errors_are_retried_with_backoff(void **state)
{
	/* 500, 500, then 200: three attempts, 1 s then 2 s apart. */
	const struct notify_result *r[8];
	struct notifier *n = NULL;
	struct rlog log = { 0 };
	struct srv s;

	srv_start(&s, SRV_500_TWICE);
	assert_int_equal(notifier_start(&n), 0);
	notifier_submit(n, net_message(CHANNEL_WEBHOOK, "hook", url_for("http", s.port, "/h"), 7,
		5, 5 * NS_PER_S));
	wait_final(n, &log, 7);
	notifier_stop(n);
	srv_stop(&s);

	assert_int_equal(rlog_for(&log, 7, r, 8), 3);
	assert_false(r[0]->sent);
	assert_false(r[0]->final);
	assert_int_equal(r[0]->attempt, 1);
	assert_string_equal(r[0]->error, "HTTP 500");
	assert_int_equal(r[0]->next_try_ns - r[0]->time_ns, 1 * NS_PER_S);
	assert_false(r[1]->sent);
	assert_int_equal(r[1]->attempt, 2);
	assert_int_equal(r[1]->next_try_ns - r[1]->time_ns, 2 * NS_PER_S);
	assert_true(r[1]->time_ns >= r[0]->next_try_ns);
	assert_true(r[2]->sent);
	assert_true(r[2]->final);
	assert_int_equal(r[2]->attempt, 3);
	assert_int_equal(s.requests, 3);
	srv_release(&s);
}

static void
hung_channel_does_not_hold_up_others(void **state)
{
	/* A port that accepts (the kernel's backlog) but never answers, with a
	 * 1 s timeout and one retry; a message to a working channel submitted
	 * right after it arrives first, not behind it. */
	const struct notify_result *r[8];
	struct notifier *n = NULL;
	struct rlog log = { 0 };
	int hung_port, hung_fd;
	struct srv s;

	hung_fd = listen_loopback(&hung_port);
	srv_start(&s, SRV_OK);
	assert_int_equal(notifier_start(&n), 0);
	notifier_submit(n, net_message(CHANNEL_WEBHOOK, "hung", url_for("http", hung_port, "/h"),
		31, 1, 1 * NS_PER_S));
	notifier_submit(n, net_message(CHANNEL_WEBHOOK, "good", url_for("http", s.port, "/h"), 32,
		0, 5 * NS_PER_S));
	wait_final(n, &log, 32);
	wait_final(n, &log, 31);
	notifier_stop(n);
	srv_stop(&s);
	close(hung_fd);

	assert_true(rlog_final(&log, 32)->sent);
	assert_true(rlog_first_index(&log, 32) < rlog_first_index(&log, 31));
	assert_int_equal(rlog_for(&log, 31, r, 8), 2);
	assert_false(r[0]->final);
	assert_non_null(strstr(r[0]->error, "timed out"));
	assert_true(r[1]->final);
	assert_false(r[1]->sent);
	assert_int_equal(r[1]->attempt, 2);
	assert_non_null(strstr(r[1]->error, "timed out"));
	srv_release(&s);
}

static void
refused_connection_gives_up_after_retries(void **state)
{
	const struct notify_result *r[8];
	struct notifier *n = NULL;
	struct rlog log = { 0 };

	assert_int_equal(notifier_start(&n), 0);
	notifier_submit(n, net_message(CHANNEL_DINGTALK, "ding",
		url_for("http", closed_port(), "/robot/send?access_token=t"), 9, 2, 5 * NS_PER_S));
	wait_final(n, &log, 9);
	notifier_stop(n);

	assert_int_equal(rlog_for(&log, 9, r, 8), 3);
	for (int i = 0; i < 3; i++) {
		assert_false(r[i]->sent);
		assert_int_equal(r[i]->attempt, i + 1);
		assert_non_null(strcasestr(r[i]->error, "connect"));
	}
	assert_int_equal(r[0]->next_try_ns - r[0]->time_ns, 1 * NS_PER_S);
	assert_int_equal(r[1]->next_try_ns - r[1]->time_ns, 2 * NS_PER_S);
	assert_true(r[2]->final);
	assert_int_equal(r[2]->next_try_ns, 0);
}

static void
robot_errcode_is_a_failure(void **state)
{
	const struct notify_result *r;
	struct notifier *n = NULL;
	struct rlog log = { 0 };
	struct notify_message *m;
	struct srv s;

	srv_start(&s, SRV_ERRCODE);
	assert_int_equal(notifier_start(&n), 0);
	m = net_message(CHANNEL_DINGTALK, "ding",
		url_for("http", s.port, "/robot/send?access_token=t"), 11, 0, 5 * NS_PER_S);
	m->secret = xstrdup("SECwrong");
	notifier_submit(n, m);
	r = wait_final(n, &log, 11);
	assert_false(r->sent);
	assert_int_equal(r->attempt, 1);
	assert_string_equal(r->error, "errcode 310000: sign not match");
	notifier_stop(n);
	srv_stop(&s);
	/* the signature travelled in the URL */
	assert_true(strncmp(s.target, "/robot/send?access_token=t&timestamp=", 37) == 0);
	assert_non_null(strstr(s.target, "&sign="));
	srv_release(&s);
}

static void
resumed_message_counts_earlier_attempts(void **state)
{
	/* Two attempts before a restart, two retries allowed: one more
	 * attempt (the third), and it is final. A message that cannot be
	 * rendered fails for good at once. */
	const struct notify_result *r[4];
	struct notifier *n = NULL;
	struct rlog log = { 0 };
	struct notify_message *m;

	assert_int_equal(notifier_start(&n), 0);
	m = net_message(CHANNEL_WEBHOOK, "w", url_for("http", closed_port(), "/"), 21, 2,
		5 * NS_PER_S);
	m->attempts_done = 2;
	notifier_submit(n, m);
	m = net_message(CHANNEL_EMAIL, "mail", url_for("smtp", closed_port(), ""), 22, 5,
		5 * NS_PER_S);	/* no recipient */
	notifier_submit(n, m);
	wait_final(n, &log, 21);
	wait_final(n, &log, 22);
	notifier_stop(n);
	assert_int_equal(rlog_for(&log, 21, r, 4), 1);
	assert_int_equal(r[0]->attempt, 3);
	assert_true(r[0]->final);
	assert_int_equal(rlog_for(&log, 22, r, 4), 1);
	assert_int_equal(r[0]->attempt, 1);
	assert_true(r[0]->final);
	assert_false(r[0]->sent);
	assert_non_null(strstr(r[0]->error, "recipient"));
}

static void
stop_gives_up_pending_messages(void **state)
{
	/* One attempt hanging (10 s timeout), one message backing off: stop
	 * gives both up at once, each with a final "stopped". */
	struct notify_result *list, *p;
	struct notifier *n = NULL;
	struct rlog log = { 0 };
	int hung_port, hung_fd;
	bool seen[2] = { false, false };

	hung_fd = listen_loopback(&hung_port);
	assert_int_equal(notifier_start(&n), 0);
	notifier_submit(n, net_message(CHANNEL_WEBHOOK, "hung", url_for("http", hung_port, "/"),
		41, 3, 10 * NS_PER_S));
	notifier_submit(n, net_message(CHANNEL_WEBHOOK, "refused",
		url_for("http", closed_port(), "/"), 42, 3, 5 * NS_PER_S));
	for (int i = 0; i < 200 && rlog_first_index(&log, 42) == LOG_MAX; i++)
		rlog_pump(n, &log, 100);	/* 42 failed once and now waits 1 s */
	assert_true(rlog_first_index(&log, 42) < LOG_MAX);
	list = notifier_stop_take(n);
	for (p = list; p != NULL; p = p->next) {
		if (p->id != 41 && p->id != 42)
			continue;
		if (!p->final)
			continue;
		assert_string_equal(p->error, "stopped");
		assert_false(p->sent);
		seen[p->id - 41] = true;
		if (p->id == 41)
			assert_int_equal(p->attempt, 1);
		else
			assert_int_equal(p->attempt, 2);
	}
	rlog_add(&log, list);
	assert_true(seen[0]);
	assert_true(seen[1]);
	close(hung_fd);
	notifier_stop(NULL);
}

/* ---- TLS ---- */

struct certs {
	char	 dir[64];
	char	 good_crt[128], good_key[128];	/* for IP 127.0.0.1 */
	char	 other_crt[128], other_key[128];	/* for elsewhere.example only */
};

/* Self-signed P-256 certificates by the openssl command line; false when
 * it is not there. */
static bool
certs_make(struct certs *c)
{
	char cmd[1024], *out;

	snprintf(c->dir, sizeof(c->dir), "/tmp/yingji-notify-XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	snprintf(c->good_crt, sizeof(c->good_crt), "%s/good.crt", c->dir);
	snprintf(c->good_key, sizeof(c->good_key), "%s/good.key", c->dir);
	snprintf(c->other_crt, sizeof(c->other_crt), "%s/other.crt", c->dir);
	snprintf(c->other_key, sizeof(c->other_key), "%s/other.key", c->dir);
	snprintf(cmd, sizeof(cmd),
		"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
		" -keyout %s -out %s -subj /CN=notify-test -addext subjectAltName=IP:127.0.0.1"
		" -days 2 >/dev/null 2>&1 &&"
		" openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
		" -keyout %s -out %s -subj /CN=elsewhere -addext"
		" subjectAltName=DNS:elsewhere.example -days 2 >/dev/null 2>&1 && echo made",
		c->good_key, c->good_crt, c->other_key, c->other_crt);
	out = shell_line(cmd);
	free(out);
	return out != NULL;
}

static void
certs_remove(struct certs *c)
{
	unlink(c->good_crt);
	unlink(c->good_key);
	unlink(c->other_crt);
	unlink(c->other_key);
	rmdir(c->dir);
}

/* openssl s_server that speaks TLS 1.2 at most, on a free port. */
static pid_t
tls12_server_start(const struct certs *c, int *ret_port)
{
	extern char **environ;
	posix_spawn_file_actions_t fa;
	char port[16];
	char *argv[] = { "openssl", "s_server", "-tls1_2", "-cert", (char *)c->good_crt, "-key",
		(char *)c->good_key, "-accept", port, "-www", "-quiet", NULL };
	pid_t pid;

	*ret_port = closed_port();
	snprintf(port, sizeof(port), "%d", *ret_port);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	assert_int_equal(posix_spawnp(&pid, "openssl", &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	for (int i = 0; i < 100; i++) {		/* until it listens */
		struct sockaddr_in sin = { .sin_family = AF_INET,
			.sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(*ret_port) };
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin));

		close(fd);
		if (ok == 0)
			return pid;
		usleep(50 * 1000);
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	fail_msg("openssl s_server did not start");
	return -1;
}

static const struct notify_result *
send_once(struct notifier *n, struct rlog *log, uint64_t id, const char *url, const char *ca_file)
{
	struct notify_message *m;
	char chan[32];

	snprintf(chan, sizeof(chan), "tls-%llu", (unsigned long long)id);
	m = net_message(CHANNEL_WEBHOOK, chan, xstrdup(url), id, 0, 5 * NS_PER_S);
	if (ca_file != NULL)
		m->ca_file = xstrdup(ca_file);
	notifier_submit(n, m);
	return wait_final(n, log, id);
}

static void
https_verifies_peer_name_and_version(void **state)
{
	/* TLS is never taken on trust: the certificate must chain to the
	 * channel's CA (or the system's), name the host, and TLS 1.3 it is. */
	struct tls_ctx *good_tls = NULL, *other_tls = NULL;
	const struct notify_result *r;
	struct notifier *n = NULL;
	struct rlog log = { 0 };
	struct srv good, other;
	struct certs c;
	char *url;
	pid_t old;
	int port;

	if (!certs_make(&c)) {
		certs_remove(&c);
		skip();
	}
	assert_int_equal(tls_ctx_server_new(NULL, c.good_crt, c.good_key, false, &good_tls), 0);
	assert_int_equal(tls_ctx_server_new(NULL, c.other_crt, c.other_key, false, &other_tls), 0);
	srv_start_tls(&good, SRV_OK, good_tls);
	srv_start_tls(&other, SRV_OK, other_tls);
	assert_int_equal(notifier_start(&n), 0);

	url = url_for("https", good.port, "/hook");
	r = send_once(n, &log, 61, url, c.good_crt);
	assert_string_equal(r->error, "");
	assert_true(r->sent);
	r = send_once(n, &log, 62, url, NULL);		/* the system's CAs do not know it */
	assert_false(r->sent);
	assert_non_null(strstr(r->error, "certificate"));
	free(url);

	url = url_for("https", other.port, "/hook");	/* trusted, but for another name */
	r = send_once(n, &log, 63, url, c.other_crt);
	assert_false(r->sent);
	assert_non_null(strstr(r->error, "127.0.0.1"));
	free(url);

	old = tls12_server_start(&c, &port);
	url = url_for("https", port, "/hook");
	r = send_once(n, &log, 64, url, c.good_crt);
	assert_false(r->sent);
	assert_non_null(strstr(r->error, "version"));
	free(url);
	kill(old, SIGTERM);
	waitpid(old, NULL, 0);

	notifier_stop(n);
	srv_stop(&good);
	srv_stop(&other);
	assert_int_equal(good.requests, 1);
	assert_int_equal(other.requests, 0);
	srv_release(&good);
	srv_release(&other);
	tls_ctx_free(good_tls);
	tls_ctx_free(other_tls);
	certs_remove(&c);
}

/* ---- SMTP ---- */

struct smtp_srv {
	int		 lfd, port;
	pthread_t	 thread;
	atomic_bool	 stop;
	pthread_mutex_t	 lock;
	char		 mail_from[2048];
	char		 rcpt[1024];
	struct buf	 data;
	int		 messages;
};

struct line_reader {
	int	 fd;
	char	 buf[4096];
	size_t	 len;
};

/* One line without its CRLF into line; false at EOF or error. */
static bool
read_line(struct line_reader *lr, char *line, size_t size)
{
	for (;;) {
		char *eol = memchr(lr->buf, '\n', lr->len);
		ssize_t r;

		if (eol != NULL) {
			size_t n = (size_t)(eol - lr->buf) + 1, keep = n - 1;

			if (keep > 0 && lr->buf[keep - 1] == '\r')
				keep--;
			if (keep >= size)
				keep = size - 1;
			memcpy(line, lr->buf, keep);
			line[keep] = '\0';
			memmove(lr->buf, lr->buf + n, lr->len - n);
			lr->len -= n;
			return true;
		}
		if (lr->len == sizeof(lr->buf))
			return false;
		r = recv(lr->fd, lr->buf + lr->len, sizeof(lr->buf) - lr->len, 0);
		if (r <= 0)
			return false;
		lr->len += (size_t)r;
	}
}

static void
say(int fd, const char *s)
{
	write_all(fd, s, strlen(s));
}

static void
smtp_session(struct smtp_srv *s, int fd)
{
	struct line_reader lr = { .fd = fd };
	struct timeval tv = { .tv_sec = 5 };
	char line[2048];

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	say(fd, "220 receiver.test ESMTP\r\n");
	while (read_line(&lr, line, sizeof(line))) {
		if (strncasecmp(line, "EHLO", 4) == 0) {
			say(fd, "250-receiver.test\r\n250 SIZE 10000000\r\n");	/* no STARTTLS */
		} else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
			pthread_mutex_lock(&s->lock);
			snprintf(s->mail_from, sizeof(s->mail_from), "%s", line + 10);
			pthread_mutex_unlock(&s->lock);
			say(fd, "250 OK\r\n");
		} else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
			pthread_mutex_lock(&s->lock);
			snprintf(s->rcpt + strlen(s->rcpt), sizeof(s->rcpt) - strlen(s->rcpt), "%s",
				line + 8);
			pthread_mutex_unlock(&s->lock);
			say(fd, "250 OK\r\n");
		} else if (strcasecmp(line, "DATA") == 0) {
			say(fd, "354 go ahead\r\n");
			pthread_mutex_lock(&s->lock);
			buf_reset(&s->data);
			while (read_line(&lr, line, sizeof(line)) && strcmp(line, ".") != 0) {
				const char *l = line[0] == '.' ? line + 1 : line;	/* unstuff */

				(void)buf_appendf(&s->data, "%s\r\n", l);	/* no cmocka here */
			}
			s->messages++;
			pthread_mutex_unlock(&s->lock);
			say(fd, "250 queued\r\n");
		} else if (strcasecmp(line, "QUIT") == 0) {
			say(fd, "221 bye\r\n");
			return;
		} else {
			say(fd, "502 not here\r\n");
		}
	}
}

static void *
smtp_main(void *arg)
{
	struct smtp_srv *s = arg;

	while (!atomic_load(&s->stop)) {
		struct pollfd pfd = { .fd = s->lfd, .events = POLLIN };
		int fd;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		smtp_session(s, fd);
		close(fd);
	}
	return NULL;
}

static void
smtp_start(struct smtp_srv *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	buf_init(&s->data, 1 << 20);
	s->lfd = listen_loopback(&s->port);
	assert_int_equal(pthread_create(&s->thread, NULL, smtp_main, s), 0);
}

static void
smtp_stop(struct smtp_srv *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	close(s->lfd);
	pthread_mutex_destroy(&s->lock);
}

static void
email_arrives_readable(void **state)
{
	const struct notify_result *r;
	struct notifier *n = NULL;
	struct rlog log = { 0 };
	struct notify_message *m;
	struct smtp_srv s;

	smtp_start(&s);
	assert_int_equal(notifier_start(&n), 0);
	m = net_message(CHANNEL_EMAIL, "mail", url_for("smtp", s.port, ""), 51, 0, 5 * NS_PER_S);
	assert_int_equal(notify_message_add_recipient(m, "duty@example.gov.cn"), 0);
	assert_int_equal(notify_message_add_recipient(m, "leader@example.gov.cn"), 0);
	notifier_submit(n, m);
	r = wait_final(n, &log, 51);
	assert_string_equal(r->error, "");
	assert_true(r->sent);
	notifier_stop(n);
	smtp_stop(&s);

	assert_int_equal(s.messages, 1);
	assert_true(strncmp(s.mail_from, "<yingji@example.gov.cn>", 23) == 0);
	assert_string_equal(s.rcpt, "<duty@example.gov.cn><leader@example.gov.cn>");
	assert_email_readable(s.data.data, SUBJECT, TEXT);
	buf_release(&s.data);
}

static void
smtp_password_never_in_clear(void **state)
{
	/* With AUTH credentials, a server without STARTTLS gets nothing. */
	const struct notify_result *r;
	struct notifier *n = NULL;
	struct rlog log = { 0 };
	struct notify_message *m;
	struct smtp_srv s;

	smtp_start(&s);
	assert_int_equal(notifier_start(&n), 0);
	m = net_message(CHANNEL_EMAIL, "mail", url_for("smtp", s.port, ""), 52, 0, 5 * NS_PER_S);
	assert_int_equal(notify_message_add_recipient(m, "duty@example.gov.cn"), 0);
	m->username = xstrdup("yingji");
	m->password = xstrdup("hunter2");
	notifier_submit(n, m);
	r = wait_final(n, &log, 52);
	assert_false(r->sent);
	assert_non_null(strstr(r->error, "STARTTLS"));
	notifier_stop(n);
	smtp_stop(&s);
	assert_int_equal(s.messages, 0);
	assert_string_equal(s.mail_from, "");
	buf_release(&s.data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hmac_matches_rfc4231),
		cmocka_unit_test(wecom_body_mentions_phones),
		cmocka_unit_test(wecom_long_text_is_cut_at_a_character),
		cmocka_unit_test(dingtalk_body_and_signed_url),
		cmocka_unit_test(feishu_body_signed_inside),
		cmocka_unit_test(webhook_body_has_the_fields),
		cmocka_unit_test(email_is_rfc5322_with_utf8_subject),
		cmocka_unit_test(email_refuses_bad_addresses),
		cmocka_unit_test(render_limits),
		cmocka_unit_test(answers_judged),
		cmocka_unit_test(answer_errors_are_safe_text),
		cmocka_unit_test(webhook_delivered_first_time),
		cmocka_unit_test(server_errors_are_retried_with_backoff),
		cmocka_unit_test(hung_channel_does_not_hold_up_others),
		cmocka_unit_test(refused_connection_gives_up_after_retries),
		cmocka_unit_test(robot_errcode_is_a_failure),
		cmocka_unit_test(resumed_message_counts_earlier_attempts),
		cmocka_unit_test(stop_gives_up_pending_messages),
		cmocka_unit_test(https_verifies_peer_name_and_version),
		cmocka_unit_test(email_arrives_readable),
		cmocka_unit_test(smtp_password_never_in_clear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
