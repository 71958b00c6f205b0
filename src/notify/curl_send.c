/*
 * curl_send.c - the only file that includes curl/curl.h: attempts at sending
 * notices, each one easy handle, all on one multi handle so that one slow
 * channel never holds up another (see internal.h for the interface).
 *
 * What every attempt is held to:
 *   - only the protocols its kind needs (http,https for robots and webhooks;
 *     smtp,smtps for email), no redirects, no proxy (the environment's
 *     http_proxy/ALL_PROXY are ignored: on an air-gapped network a stray
 *     proxy variable must not send notices somewhere else);
 *   - the message's timeout for connecting and for the whole attempt;
 *   - TLS always verifies the peer's certificate and name, against the
 *     system's CA bundle or the channel's own;
 *   - https:// and smtps:// need TLS 1.3. Plain smtp:// upgrades with
 *     STARTTLS whenever the server offers it (TLS 1.2 or later there: mail
 *     relays inside government networks often stop at 1.2, and a relay
 *     that offers nothing would otherwise get the message in clear anyway).
 *     With SMTP AUTH credentials STARTTLS is required, so a password never
 *     crosses the network in clear; use smtps:// to require TLS always;
 *   - the answer is kept up to NOTIFY_ANSWER_MAX bytes, the rest dropped.
 */
#include "notify/internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "core/buf.h"
#include "core/xalloc.h"
#include "core/banned.h"

#ifndef YINGJI_VERSION
#define YINGJI_VERSION "0"
#endif

struct notify_attempt {
	struct notify_attempt *prev, *next;	/* the sender's list */
	CURL		*easy;
	void		*data;
	enum plan_channel_kind kind;
	char		*body;		/* request body, or the whole email */
	size_t		 body_len, body_off;
	char		*url;
	char		*from;		/* SMTP envelope sender */
	char		*username, *password;
	struct curl_slist *headers, *rcpt;
	struct buf	 answer;
	char		 errbuf[CURL_ERROR_SIZE];
};

struct notify_sender {
	CURLM		*multi;
	struct notify_attempt *active;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void
global_init_once(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int
notify_sender_global_init(void)
{
	pthread_once(&global_once, global_init_once);
	return global_rc == CURLE_OK ? 0 : -EIO;
}

static void
wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static void
attempt_free(struct notify_attempt *a)
{
	if (a == NULL)
		return;
	if (a->easy != NULL)
		curl_easy_cleanup(a->easy);
	curl_slist_free_all(a->headers);
	curl_slist_free_all(a->rcpt);
	free(a->body);
	wipe_free(a->url);	/* a DingTalk/WeCom URL carries the robot's key */
	free(a->from);
	wipe_free(a->username);
	wipe_free(a->password);
	buf_release(&a->answer);
	free(a);
}

static size_t
answer_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct notify_attempt *a = userdata;
	size_t n = size * nmemb, room = NOTIFY_ANSWER_MAX - a->answer.len;

	/* Past the cap the bytes are dropped, not refused: the attempt's
	 * timeout bounds a peer that never stops talking. */
	(void)buf_append(&a->answer, ptr, n < room ? n : room);
	return n;
}

static size_t
body_read(char *buffer, size_t size, size_t nitems, void *userdata)
{
	struct notify_attempt *a = userdata;
	size_t n = size * nitems, left = a->body_len - a->body_off;

	if (n > left)
		n = left;
	memcpy(buffer, a->body + a->body_off, n);
	a->body_off += n;
	return n;
}

static bool
has_scheme(const char *url, const char *scheme)
{
	size_t n = strlen(scheme);

	return strncasecmp(url, scheme, n) == 0 && strncmp(url + n, "://", 3) == 0;
}

/* The options every attempt shares. */
static CURLcode
setopt_common(struct notify_attempt *a, const struct notify_message *m)
{
	int64_t timeout_ns = m->timeout_ns > 0 ? m->timeout_ns : NOTIFY_TIMEOUT_DEFAULT_NS;
	long timeout_ms = (long)(timeout_ns / 1000000);
	CURL *e = a->easy;
	CURLcode rc = CURLE_OK;

	if (timeout_ms < 1)
		timeout_ms = 1;
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_URL, a->url);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR,
			m->kind == CHANNEL_EMAIL ? "smtp,smtps" : "http,https");
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (rc == CURLE_OK && (has_scheme(a->url, "https") || has_scheme(a->url, "smtps")))
		rc = curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_3);
	else if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (rc == CURLE_OK && m->ca_file != NULL)
		rc = curl_easy_setopt(e, CURLOPT_CAINFO, m->ca_file);
#if LIBCURL_VERSION_NUM >= 0x075700
	/* A name lookup stuck in getaddrinfo() would otherwise be waited
	 * for when the attempt ends, stalling every channel's transfers:
	 * curl leaves the resolver thread to finish on its own instead. */
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_QUICK_EXIT, 1L);
#endif
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_ERRORBUFFER, a->errbuf);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, answer_write);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_WRITEDATA, a);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_PRIVATE, a);
	return rc;
}

static CURLcode
setopt_http(struct notify_attempt *a)
{
	CURL *e = a->easy;
	CURLcode rc = CURLE_OK;

	a->headers = curl_slist_append(a->headers, "Content-Type: application/json; charset=utf-8");
	if (a->headers != NULL)
		a->headers = curl_slist_append(a->headers, "Accept: application/json");
	if (a->headers != NULL)
		a->headers = curl_slist_append(a->headers, "Expect:");	/* no 100-continue wait */
	if (a->headers == NULL)
		return CURLE_OUT_OF_MEMORY;
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_HTTPHEADER, a->headers);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_USERAGENT, "yingji/" YINGJI_VERSION);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_POST, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_POSTFIELDS, a->body);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)a->body_len);
	return rc;
}

static CURLcode
setopt_smtp(struct notify_attempt *a, const struct notify_message *m)
{
	CURL *e = a->easy;
	CURLcode rc = CURLE_OK;

	for (size_t i = 0; i < m->nrecipients; i++) {
		struct curl_slist *l = curl_slist_append(a->rcpt, m->recipients[i]);

		if (l == NULL)
			return CURLE_OUT_OF_MEMORY;
		a->rcpt = l;
	}
	a->from = xstrdup(m->from);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_MAIL_FROM, a->from);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_MAIL_RCPT, a->rcpt);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_READFUNCTION, body_read);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_READDATA, a);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)a->body_len);
	if (rc == CURLE_OK && m->username != NULL) {
		a->username = xstrdup(m->username);
		rc = curl_easy_setopt(e, CURLOPT_USERNAME, a->username);
	}
	if (rc == CURLE_OK && m->password != NULL) {
		a->password = xstrdup(m->password);
		rc = curl_easy_setopt(e, CURLOPT_PASSWORD, a->password);
	}
	if (rc == CURLE_OK && has_scheme(a->url, "smtp"))
		rc = curl_easy_setopt(e, CURLOPT_USE_SSL,
			m->username != NULL || m->password != NULL ? (long)CURLUSESSL_ALL
								   : (long)CURLUSESSL_TRY);
	return rc;
}

int
notify_sender_new(struct notify_sender **ret)
{
	struct notify_sender *s = xcalloc(1, sizeof(*s));

	s->multi = curl_multi_init();
	if (s->multi == NULL) {
		free(s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

static void
sender_unlink(struct notify_sender *s, struct notify_attempt *a)
{
	if (a->prev != NULL)
		a->prev->next = a->next;
	else
		s->active = a->next;
	if (a->next != NULL)
		a->next->prev = a->prev;
	a->prev = a->next = NULL;
	curl_multi_remove_handle(s->multi, a->easy);
}

void
notify_sender_free(struct notify_sender *s)
{
	if (s == NULL)
		return;
	while (s->active != NULL) {
		struct notify_attempt *a = s->active;

		sender_unlink(s, a);
		attempt_free(a);
	}
	curl_multi_cleanup(s->multi);
	free(s);
}

int
notify_sender_start(struct notify_sender *s, const struct notify_message *m, int64_t now_ns,
	void *data, char *error, size_t error_size)
{
	struct notify_attempt *a = xcalloc(1, sizeof(*a));
	CURLcode rc;
	int r;

	buf_init(&a->answer, NOTIFY_ANSWER_MAX);
	a->data = data;
	a->kind = m->kind;
	r = notify_render(m, now_ns, &a->body, &a->body_len);
	if (r < 0) {
		notify_error_set(error, error_size, "%s",
			r == -E2BIG ? "message too long for the channel"
				    : "message cannot be sent on this channel (bad sender or "
				      "recipient address, no recipient, or unknown kind)");
		goto out;
	}
	r = notify_url(m, now_ns, &a->url);
	if (r < 0) {
		notify_error_set(error, error_size, "channel has no usable URL");
		goto out;
	}
	a->easy = curl_easy_init();
	if (a->easy == NULL) {
		r = -ENOMEM;
		notify_error_set(error, error_size, "curl_easy_init failed");
		goto out;
	}
	rc = setopt_common(a, m);
	if (rc == CURLE_OK)
		rc = m->kind == CHANNEL_EMAIL ? setopt_smtp(a, m) : setopt_http(a);
	if (rc != CURLE_OK) {
		r = rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO;
		notify_error_set(error, error_size, "%s", curl_easy_strerror(rc));
		goto out;
	}
	if (curl_multi_add_handle(s->multi, a->easy) != CURLM_OK) {
		r = -EIO;
		notify_error_set(error, error_size, "curl_multi_add_handle failed");
		goto out;
	}
	a->next = s->active;
	if (s->active != NULL)
		s->active->prev = a;
	s->active = a;
	a = NULL;		/* the sender owns it now */
	r = 0;
out:
	attempt_free(a);
	return r;
}

int
notify_sender_run(struct notify_sender *s, int wake_fd, int timeout_ms)
{
	struct curl_waitfd wake = { .fd = wake_fd, .events = CURL_WAIT_POLLIN };
	int running = 0;

	/* Poll first, then perform, and nothing after: a transfer that
	 * finishes in a perform is taken by notify_sender_take() before the
	 * next poll, which would otherwise sleep on it. A handle just added
	 * has a zero timeout in curl, so the poll returns at once for it. */
	if (curl_multi_poll(s->multi, &wake, 1, timeout_ms, NULL) != CURLM_OK)
		return -EIO;
	if (wake.revents != 0) {
		uint64_t v;

		(void)!read(wake_fd, &v, sizeof(v));
	}
	if (curl_multi_perform(s->multi, &running) != CURLM_OK)
		return -EIO;
	return 0;
}

/* The verdict on a finished transfer. */
static void
attempt_outcome(struct notify_attempt *a, CURLcode rc, struct notify_attempt_done *ret)
{
	long status = 0;

	ret->data = a->data;
	ret->sent = false;
	ret->error[0] = '\0';
	if (rc != CURLE_OK) {
		/* curl's own words: "Failed to connect to 127.0.0.1 port 9 after 0
		 * ms: Couldn't connect to server", "Operation timed out after
		 * 2001 milliseconds with 0 bytes received" */
		notify_error_set(ret->error, sizeof(ret->error), "%s",
			a->errbuf[0] != '\0' ? a->errbuf : curl_easy_strerror(rc));
		return;
	}
	curl_easy_getinfo(a->easy, CURLINFO_RESPONSE_CODE, &status);
	ret->sent = notify_answer_ok(a->kind, status, a->answer.data, a->answer.len, ret->error,
		sizeof(ret->error));
}

bool
notify_sender_take(struct notify_sender *s, struct notify_attempt_done *ret)
{
	CURLMsg *msg;
	int left = 0;

	while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
		struct notify_attempt *a;
		char *priv = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		a = (struct notify_attempt *)priv;
		if (a == NULL)
			continue;
		attempt_outcome(a, msg->data.result, ret);
		sender_unlink(s, a);	/* msg is invalid from here on */
		attempt_free(a);
		return true;
	}
	return false;
}
