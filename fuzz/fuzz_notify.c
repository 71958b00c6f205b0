/*
 * fuzz_notify.c - libFuzzer target for src/notify's two parsers-and-writers:
 *   - notify_answer_ok() on arbitrary bytes as each channel's answer body,
 *     with arbitrary HTTP statuses: never crashes or reads past the body,
 *     and the error text is always NUL-terminated, valid UTF-8 without
 *     control characters (it goes straight into the delivery log);
 *   - notify_render() and notify_url() with arbitrary subject, text,
 *     recipients and secret: a robot or webhook body is always one valid
 *     JSON object, an email always has CRLF lines of at most 78 characters.
 *
 * Input: byte 0 picks the kind, bytes 1-2 the HTTP status, the rest is the
 * answer body and, split at NUL bytes, subject / text / recipient / secret.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_check.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "notify/notify.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_error_text(const char *e, size_t size, bool ok)
{
	size_t n = strnlen(e, size);

	if (n == size)
		__builtin_trap();		/* not terminated */
	if (ok && n != 0)
		__builtin_trap();
	if (!ok && n == 0)
		__builtin_trap();		/* a failure always says why */
	if (!utf8_valid(e, n))
		__builtin_trap();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)e[i] < 0x20 || e[i] == 0x7f)
			__builtin_trap();
}

/* The next NUL-separated field of in[*pos..size), copied. */
static char *
next_field(const uint8_t *in, size_t size, size_t *pos)
{
	size_t start = *pos, end = start;

	while (end < size && in[end] != 0)
		end++;
	*pos = end < size ? end + 1 : end;
	return xstrndup((const char *)in + start, end - start);
}

/* CRLF lines only (a bare CR or LF would be header injection), headers
 * within RFC 5322's hard 998, body lines within MIME's 76. */
static void
check_email(const char *body, size_t len)
{
	size_t col = 0, max = 998;

	for (size_t i = 0; i < len; i++) {
		if (body[i] == '\r') {
			if (i + 1 >= len || body[i + 1] != '\n')
				__builtin_trap();
			if (col == 0)
				max = 76;	/* the empty line: the body follows */
			col = 0;
			i++;
			continue;
		}
		if (body[i] == '\n' || ++col > max)
			__builtin_trap();
	}
}

static void
render_checks(enum plan_channel_kind kind, const uint8_t *in, size_t size)
{
	struct plan_channel ch = {
		.id = "fuzz", .kind = kind, .url = "https://example.invalid/hook?k=1",
		.from = "yingji@example.gov.cn", .timeout_ns = 1, .retries = 0,
	};
	struct notify_message *m = notify_message_new(&ch);
	char *body = NULL, *url = NULL;
	size_t pos = 0, len = 0;
	int r;

	m->subject = next_field(in, size, &pos);
	m->text = next_field(in, size, &pos);
	while (pos < size && m->nrecipients < 3) {
		char *to = next_field(in, size, &pos);

		(void)notify_message_add_recipient(m, to);
		free(to);
	}
	if (pos < size)
		m->secret = next_field(in, size, &pos);

	r = notify_render(m, 1700000000123456789, &body, &len);
	if (r == 0) {
		if (strlen(body) != len)
			__builtin_trap();
		if (kind == CHANNEL_EMAIL)
			check_email(body, len);
		else if (json_check_object(body, len, 16, NULL) != 0)
			__builtin_trap();
		free(body);
	} else if (r != -EINVAL && r != -E2BIG) {
		__builtin_trap();
	}
	if (notify_url(m, 1700000000123456789, &url) == 0)
		free(url);
	notify_message_free(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum plan_channel_kind kinds[] = { CHANNEL_WEBHOOK, CHANNEL_WECOM,
		CHANNEL_DINGTALK, CHANNEL_FEISHU, CHANNEL_EMAIL, (enum plan_channel_kind)0 };
	enum plan_channel_kind kind;
	char error[256], small[7];
	long status;
	char *body;
	bool ok;

	if (size < 3)
		return 0;
	kind = kinds[data[0] % (sizeof(kinds) / sizeof(kinds[0]))];
	status = (long)(data[1] | data[2] << 8) - 1000;	/* -1000 .. 64535 */
	data += 3;
	size -= 3;

	/* An exact-size copy: a read past the body is caught by ASan. */
	body = xmalloc(size > 0 ? size : 1);
	memcpy(body, data, size);
	ok = notify_answer_ok(kind, status, body, size, error, sizeof(error));
	check_error_text(error, sizeof(error), ok);
	ok = notify_answer_ok(kind, status, body, size, small, sizeof(small));
	check_error_text(small, sizeof(small), ok);
	free(body);

	if (size <= NOTIFY_TEXT_MAX + 4096)
		render_checks(kind, data, size);
	return 0;
}
