/*
 * message.c - one notice as each channel wants it: the message itself, the
 * request body (robot JSON, webhook JSON, an RFC 5322 email) and the signed
 * URL. Pure functions of the message and the time, so tests and the fuzz
 * target call them without a network.
 *
 * Signing, checked against the vendors' documentation (found through the
 * search tool; the official pages are quoted by the mirrors and SDKs named):
 *
 *   钉钉 DingTalk, 钉钉开放平台 "自定义机器人安全设置", 加签 (the page's text as
 *   mirrored at https://apifox.com/apidoc/docs-site/467052/doc-3550006):
 *   "把 timestamp+"\n"+密钥 当做签名字符串，使用 HmacSHA256 算法计算签名，然后进行
 *   Base64 encode，最后再把签名参数再进行 urlEncode，得到最终的签名（需要使用
 *   UTF-8 字符集）"; timestamp in milliseconds, within an hour of DingTalk's
 *   clock; the key is the secret (the official Java/Python samples:
 *   new SecretKeySpec(secret), mac.doFinal(stringToSign)). Both go in the
 *   URL: ...&timestamp=XXX&sign=XXX.
 *
 *   飞书 Feishu, 飞书开放平台 "自定义机器人使用指南", 签名校验
 *   (https://open.feishu.cn/document/ukTMukTMukTM/ucTM5YjL3ETO24yNxkjN, now
 *   /document/client-docs/bot-v3/add-custom-bot): "将 timestamp + "\n" + 密钥
 *   当做签名字符串，使用 HmacSHA256 算法计算签名，再进行 Base64 编码"; timestamp
 *   in seconds, within an hour. The official sample (SignDemo/GenSign, as in
 *   github.com/electricbubble/feishu-bot-api) uses the string to sign as the
 *   HMAC *key* over an empty message - not the DingTalk way round - and a
 *   signature made the DingTalk way is refused with code 19021 "sign match
 *   fail or timestamp is not within one hour from current time". Both go in
 *   the body, the timestamp as a string.
 *
 *   企业微信 WeCom group robots have no signing; the key in the URL is the
 *   secret. Text content is at most 2048 bytes (群机器人配置说明), so a longer
 *   notice is cut at a character boundary and ends with "…".
 */
#include "notify/notify.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/base64.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "notify/internal.h"
#include "tls/hmac.h"
#include "core/banned.h"

#define WECOM_CONTENT_MAX	2048	/* bytes, WeCom's documented limit */
#define MIME_LINE_MAX		76	/* base64 body lines (RFC 2045 6.8) */
#define RFC2047_CHUNK_MAX	39	/* bytes per encoded word: lines stay under 78 */
#define RFC2047_WORD_SIZE	((RFC2047_CHUNK_MAX + 2) / 3 * 4 + 1)	/* its base64, NUL */
#define EMAIL_ADDR_MAX		320	/* RFC 3696 errata: 64 + 1 + 255 */

static const char ellipsis[] = "\xe2\x80\xa6";	/* U+2026 … */

static char *
strdup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

struct notify_message *
notify_message_new(const struct plan_channel *ch)
{
	struct notify_message *m = xcalloc(1, sizeof(*m));

	m->kind = ch->kind;
	m->channel_id = strdup_or_null(ch->id);
	m->url = strdup_or_null(ch->url);
	m->secret = strdup_or_null(ch->secret);
	m->from = strdup_or_null(ch->from);
	m->username = strdup_or_null(ch->username);
	m->password = strdup_or_null(ch->password);
	m->timeout_ns = ch->timeout_ns;
	m->retries = ch->retries;
	return m;
}

/* Secrets and passwords are wiped before their memory goes back. */
static void
free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

void
notify_message_free(struct notify_message *m)
{
	if (m == NULL)
		return;
	free(m->channel_id);
	free(m->url);
	free_secret(m->secret);
	free(m->from);
	free(m->username);
	free_secret(m->password);
	free(m->ca_file);
	for (size_t i = 0; i < m->nrecipients; i++)
		free(m->recipients[i]);
	free(m->subject);
	free(m->text);
	free(m);
}

int
notify_message_add_recipient(struct notify_message *m, const char *to)
{
	if (m->nrecipients >= NOTIFY_RECIPIENTS_MAX)
		return -E2BIG;
	m->recipients[m->nrecipients++] = xstrdup(to);
	return 0;
}

static const char *
str_or_empty(const char *s)
{
	return s != NULL ? s : "";
}

/* The subject as one line: control characters (a newline the caller let
 * through) become spaces. */
static int
append_one_line(struct buf *b, const char *s)
{
	int r = 0;

	for (; *s != '\0' && r == 0; s++) {
		unsigned char c = (unsigned char)*s;

		r = buf_putc(b, c < 0x20 || c == 0x7f ? ' ' : (char)c);
	}
	return r;
}

/* The length of s[0..len) cut to at most max bytes without splitting a UTF-8
 * sequence. */
static size_t
utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/* What a robot shows: the subject as the first line, then the text. */
static int
robot_content(const struct notify_message *m, struct buf *out)
{
	const char *text = str_or_empty(m->text);
	int r;

	r = append_one_line(out, str_or_empty(m->subject));
	if (r == 0 && out->len > 0 && *text != '\0')
		r = buf_putc(out, '\n');
	if (r == 0)
		r = buf_puts(out, text);
	return r;
}

static int
check_size(const struct notify_message *m)
{
	size_t n = strlen(str_or_empty(m->subject)) + strlen(str_or_empty(m->text));

	return n > NOTIFY_TEXT_MAX ? -E2BIG : 0;
}

static int
render_wecom(const struct notify_message *m, struct buf *out)
{
	struct buf content;
	struct json j;
	int r;

	buf_init(&content, NOTIFY_BODY_MAX);
	r = robot_content(m, &content);
	if (r < 0)
		goto out;
	if (content.len > WECOM_CONTENT_MAX) {
		content.len = utf8_cut(content.data, content.len,
			WECOM_CONTENT_MAX - (sizeof(ellipsis) - 1));
		content.data[content.len] = '\0';
		r = buf_puts(&content, ellipsis);
		if (r < 0)
			goto out;
	}
	json_begin(&j, out);
	json_key_str(&j, "msgtype", "text");
	json_key_object(&j, "text");
	json_key_strn(&j, "content", content.data, content.len);
	if (m->nrecipients > 0) {
		json_key_array(&j, "mentioned_mobile_list");
		for (size_t i = 0; i < m->nrecipients; i++)
			json_array_str(&j, m->recipients[i]);
		json_close(&j);
	}
	json_close(&j);
	r = json_end(&j);
out:
	buf_release(&content);
	return r;
}

static int
render_dingtalk(const struct notify_message *m, struct buf *out)
{
	struct buf content;
	struct json j;
	int r;

	buf_init(&content, NOTIFY_BODY_MAX);
	r = robot_content(m, &content);
	/* DingTalk highlights an @mention only when "@<phone>" is also in
	 * the content (atMobiles alone notifies without showing whom). */
	for (size_t i = 0; i < m->nrecipients && r == 0; i++)
		r = buf_appendf(&content, "%s@%s", i == 0 ? "\n" : " ", m->recipients[i]);
	if (r < 0)
		goto out;
	json_begin(&j, out);
	json_key_str(&j, "msgtype", "text");
	json_key_object(&j, "text");
	json_key_strn(&j, "content", content.data, content.len);
	json_close(&j);
	if (m->nrecipients > 0) {
		json_key_object(&j, "at");
		json_key_array(&j, "atMobiles");
		for (size_t i = 0; i < m->nrecipients; i++)
			json_array_str(&j, m->recipients[i]);
		json_close(&j);
		json_key_bool(&j, "isAtAll", false);
		json_close(&j);
	}
	r = json_end(&j);
out:
	buf_release(&content);
	return r;
}

/* Feishu: base64(HMAC-SHA256(key = "<seconds>\n<secret>", message = "")). */
static void
feishu_sign(const char *secret, int64_t seconds, char out[64])
{
	uint8_t mac[HMAC_SHA256_LEN];
	char *key;

	key = xasprintf("%" PRId64 "\n%s", seconds, secret);
	hmac_sha256(key, strlen(key), "", 0, mac);
	base64_encode(mac, sizeof(mac), out);
	explicit_bzero(key, strlen(key));
	free(key);
}

static int
render_feishu(const struct notify_message *m, int64_t now_ns, struct buf *out)
{
	struct buf content;
	struct json j;
	int r;

	buf_init(&content, NOTIFY_BODY_MAX);
	r = robot_content(m, &content);
	if (r < 0)
		goto out;
	json_begin(&j, out);
	if (m->secret != NULL && m->secret[0] != '\0') {
		int64_t seconds = now_ns / 1000000000;
		char ts[24], sign[64];

		snprintf(ts, sizeof(ts), "%" PRId64, seconds);
		feishu_sign(m->secret, seconds, sign);
		json_key_str(&j, "timestamp", ts);
		json_key_str(&j, "sign", sign);
	}
	json_key_str(&j, "msg_type", "text");
	json_key_object(&j, "content");
	json_key_strn(&j, "text", content.data, content.len);
	json_close(&j);
	r = json_end(&j);
out:
	buf_release(&content);
	return r;
}

/* The generic webhook: the notice as fields, for whatever the receiver does
 * with it. id lets a receiver drop the duplicate a lost answer causes. */
static int
render_webhook(const struct notify_message *m, int64_t now_ns, struct buf *out)
{
	char when[48];
	struct json j;

	time_format_local(now_ns, when, sizeof(when));
	json_begin(&j, out);
	json_key_u64(&j, "id", m->id);
	json_key_str(&j, "subject", str_or_empty(m->subject));
	json_key_str(&j, "text", str_or_empty(m->text));
	json_key_array(&j, "recipients");
	for (size_t i = 0; i < m->nrecipients; i++)
		json_array_str(&j, m->recipients[i]);
	json_close(&j);
	json_key_str(&j, "sent_at", when);
	return json_end(&j);
}

/* An address that can go into a header and an SMTP command as it is: an
 * addr-spec of printable ASCII without spaces, angle brackets or quotes,
 * with an '@' that is neither first nor last. Anything else (CR/LF above
 * all: header or SMTP command injection) is refused. */
static bool
email_address_ok(const char *a)
{
	const char *at = strrchr(a, '@');
	size_t len = strlen(a);

	if (len == 0 || len > EMAIL_ADDR_MAX || at == NULL || at == a || at[1] == '\0')
		return false;
	for (const char *p = a; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == '(' ||
		    c == ')' || c == ',' || c == ';' || c == ':' || c == '\\')
			return false;
	}
	return true;
}

/* RFC 5322 3.3 date in Beijing time: "Sun, 22 Nov 2026 11:49:38 +0800".
 * Written by hand: strftime's %a/%b follow the locale. */
static int
append_email_date(struct buf *b, int64_t now_ns)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)(now_ns / 1000000000) + 8 * 3600;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return -EINVAL;
	return buf_appendf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0800\r\n", days[tm.tm_wday],
		tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		tm.tm_sec);
}

/* "Subject: =?UTF-8?B?...?=" (RFC 2047), always encoded, in words of whole
 * characters (RFC 2047 section 5 forbids splitting one), folded so that no
 * line passes 78 characters. */
static int
append_email_subject(struct buf *b, const char *subject)
{
	struct buf line;
	size_t off = 0;
	int r;

	buf_init(&line, NOTIFY_TEXT_MAX);
	r = append_one_line(&line, subject);
	if (r == 0)
		r = buf_puts(b, "Subject:");
	if (r == 0 && line.len == 0)
		r = buf_puts(b, " ");
	while (r == 0 && off < line.len) {
		size_t n = 0;
		char word[RFC2047_WORD_SIZE];

		while (off + n < line.len) {
			const unsigned char *p = (const unsigned char *)line.data + off + n;
			size_t cl = utf8_char_len(p, line.len - off - n);

			if (cl == 0)
				cl = 1;		/* not UTF-8: one byte on its own */
			if (n + cl > RFC2047_CHUNK_MAX)
				break;
			n += cl;
		}
		base64_encode(line.data + off, n, word);
		r = buf_appendf(b, "%s=?UTF-8?B?%s?=", off == 0 ? " " : "\r\n ", word);
		off += n;
	}
	if (r == 0)
		r = buf_puts(b, "\r\n");
	buf_release(&line);
	return r;
}

/* The text in canonical form for a text/plain body (RFC 2045 6.8, RFC 2046
 * 4.1.1): every line ends with CRLF before base64 is taken. */
static int
append_crlf_text(struct buf *b, const char *text)
{
	int r = 0;

	for (const char *p = text; *p != '\0' && r == 0; p++) {
		if (*p == '\n' && (p == text || p[-1] != '\r'))
			r = buf_putc(b, '\r');
		if (r == 0)
			r = buf_putc(b, *p);
	}
	return r;
}

static int
render_email(const struct notify_message *m, int64_t now_ns, struct buf *out)
{
	struct buf text;
	const char *domain;
	int r;

	buf_init(&text, NOTIFY_BODY_MAX);
	if (m->from == NULL || !email_address_ok(m->from) || m->nrecipients == 0) {
		r = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < m->nrecipients; i++) {
		if (!email_address_ok(m->recipients[i])) {
			r = -EINVAL;
			goto out;
		}
	}
	domain = strrchr(m->from, '@') + 1;

	r = append_email_date(out, now_ns);
	if (r == 0)
		r = buf_appendf(out, "From: %s\r\nTo: ", m->from);
	for (size_t i = 0; i < m->nrecipients && r == 0; i++)
		r = buf_appendf(out, "%s%s", i == 0 ? "" : ",\r\n ", m->recipients[i]);
	if (r == 0)
		r = buf_puts(out, "\r\n");
	if (r == 0)
		r = append_email_subject(out, str_or_empty(m->subject));
	/* Auto-Submitted (RFC 3834): vacation responders stay quiet. */
	if (r == 0)
		r = buf_appendf(out,
			"Message-ID: <yingji.%" PRIu64 ".%" PRId64 "@%s>\r\n"
			"MIME-Version: 1.0\r\n"
			"Content-Type: text/plain; charset=UTF-8\r\n"
			"Content-Transfer-Encoding: base64\r\n"
			"Auto-Submitted: auto-generated\r\n"
			"\r\n",
			m->id, now_ns, domain);
	if (r == 0)
		r = append_crlf_text(&text, str_or_empty(m->text));
	if (r == 0)
		r = base64_append(out, text.data, text.len, MIME_LINE_MAX);
out:
	buf_release(&text);
	return r;
}

int
notify_render(const struct notify_message *m, int64_t now_ns, char **ret_body, size_t *ret_len)
{
	struct buf out;
	int r;

	buf_init(&out, NOTIFY_BODY_MAX);
	r = check_size(m);
	if (r < 0)
		goto out;
	switch (m->kind) {
	case CHANNEL_WECOM:
		r = render_wecom(m, &out);
		break;
	case CHANNEL_DINGTALK:
		r = render_dingtalk(m, &out);
		break;
	case CHANNEL_FEISHU:
		r = render_feishu(m, now_ns, &out);
		break;
	case CHANNEL_WEBHOOK:
		r = render_webhook(m, now_ns, &out);
		break;
	case CHANNEL_EMAIL:
		r = render_email(m, now_ns, &out);
		break;
	default:
		r = -EINVAL;
		break;
	}
	if (r < 0)
		goto out;
	*ret_body = buf_detach(&out, ret_len);
out:
	buf_release(&out);
	return r;
}

/* Percent-encodes everything but RFC 3986 unreserved characters (base64's
 * '+', '/' and '=' above all). */
static int
append_url_encoded(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int r = 0;

	for (; *s != '\0' && r == 0; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			r = buf_putc(b, (char)c);
		} else {
			char esc[3] = { '%', hex[c >> 4], hex[c & 15] };

			r = buf_append(b, esc, 3);
		}
	}
	return r;
}

/* DingTalk: base64(HMAC-SHA256(key = secret, message = "<ms>\n<secret>")). */
static void
dingtalk_sign(const char *secret, int64_t ms, char out[64])
{
	uint8_t mac[HMAC_SHA256_LEN];
	char *msg;

	msg = xasprintf("%" PRId64 "\n%s", ms, secret);
	hmac_sha256(secret, strlen(secret), msg, strlen(msg), mac);
	base64_encode(mac, sizeof(mac), out);
	explicit_bzero(msg, strlen(msg));
	free(msg);
}

int
notify_url(const struct notify_message *m, int64_t now_ns, char **ret_url)
{
	struct buf url;
	int r;

	buf_init(&url, NOTIFY_BODY_MAX);
	if (m->url == NULL || m->url[0] == '\0') {
		r = -EINVAL;
		goto out;
	}
	r = buf_puts(&url, m->url);
	if (r == 0 && m->kind == CHANNEL_DINGTALK && m->secret != NULL && m->secret[0] != '\0') {
		int64_t ms = now_ns / 1000000;
		char sign[64];

		dingtalk_sign(m->secret, ms, sign);
		r = buf_appendf(&url, "%ctimestamp=%" PRId64 "&sign=",
			strchr(m->url, '?') != NULL ? '&' : '?', ms);
		if (r == 0)
			r = append_url_encoded(&url, sign);
	}
	if (r < 0)
		goto out;
	*ret_url = buf_detach(&url, NULL);
out:
	buf_release(&url);
	return r;
}
