/*
 * answer.c - whether a channel took a notice, from its answer, and error
 * text safe to keep.
 *
 * The robots answer HTTP 200 even when they refuse a message; the refusal
 * is in the body:
 *   WeCom     {"errcode":0,"errmsg":"ok"}	  (e.g. 93000 invalid webhook url)
 *   DingTalk  {"errcode":0,"errmsg":"ok"}	  (e.g. 310000 sign not match,
 *					   keywords not in content)
 *   Feishu    {"code":0,"msg":"success",...} (e.g. 19021 sign match fail);
 *	       robots made before 2021 answer {"StatusCode":0,"StatusMessage":...}
 * An answer without the field is a failure too: something between us and
 * the robot (a proxy's error page) answered instead.
 */
#include "notify/notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/json_get.h"
#include "core/utf8.h"
#include "notify/internal.h"
#include "core/banned.h"

#define ERRMSG_MAX	200	/* bytes of a robot's errmsg kept */

void
notify_error_set(char *error, size_t size, const char *fmt, ...)
{
	char raw[512];
	size_t len, o = 0;
	va_list ap;
	int n;

	if (size == 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	len = n < 0 ? 0 : (size_t)n >= sizeof(raw) ? sizeof(raw) - 1 : (size_t)n;
	for (size_t i = 0; i < len;) {
		const unsigned char *p = (const unsigned char *)raw + i;
		size_t cl = utf8_char_len(p, len - i), putlen = cl;
		const char *put = (const char *)p;

		if (cl == 0) {
			put = "?";
			putlen = cl = 1;
		} else if (cl == 1 && (*p < 0x20 || *p == 0x7f)) {
			put = " ";
		}
		if (o + putlen >= size)
			break;		/* a character that does not fit whole is left out */
		memcpy(error + o, put, putlen);
		o += putlen;
		i += cl;
	}
	error[o] = '\0';
}

/* The robot's number and message from its answer. -ENOENT when the number
 * is not there. */
static int
answer_code(const char *body, size_t len, const char *code_key, const char *msg_key,
	int64_t *ret_code, struct buf *msg)
{
	int r;

	r = json_get_i64(body, len, code_key, ret_code);
	if (r < 0)
		return r;
	if (json_get_str(body, len, msg_key, msg) < 0)
		buf_reset(msg);
	return 0;
}

bool
notify_answer_ok(enum plan_channel_kind kind, long http_status, const char *body, size_t len,
	char *error, size_t error_size)
{
	const char *label = "errcode";
	struct buf msg;
	int64_t code = 0;
	bool ok = false;
	int r;

	buf_init(&msg, ERRMSG_MAX);
	if (error_size > 0)
		error[0] = '\0';
	if (body == NULL)
		len = 0;
	if (http_status < 200 || http_status > 299) {
		notify_error_set(error, error_size, "%s %ld",
			kind == CHANNEL_EMAIL ? "SMTP" : "HTTP", http_status);
		goto out;
	}
	switch (kind) {
	case CHANNEL_WEBHOOK:
	case CHANNEL_EMAIL:
		ok = true;
		goto out;
	case CHANNEL_WECOM:
	case CHANNEL_DINGTALK:
		r = answer_code(body, len, "errcode", "errmsg", &code, &msg);
		break;
	case CHANNEL_FEISHU:
		label = "code";
		r = answer_code(body, len, "code", "msg", &code, &msg);
		if (r == -ENOENT) {
			label = "StatusCode";
			r = answer_code(body, len, "StatusCode", "StatusMessage", &code, &msg);
		}
		break;
	default:
		notify_error_set(error, error_size, "unknown channel kind %d", (int)kind);
		goto out;
	}
	if (r < 0) {
		notify_error_set(error, error_size, "HTTP %ld but no %s in the answer", http_status,
			label);
		goto out;
	}
	if (code != 0) {
		/* msg may hold any byte: notify_error_set makes it printable */
		notify_error_set(error, error_size, "%s %lld: %.*s", label, (long long)code,
			(int)msg.len, msg.data);
		goto out;
	}
	ok = true;
out:
	buf_release(&msg);
	return ok;
}
