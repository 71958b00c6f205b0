/*
 * notify.h - sending notices to people: SMTP email, a generic JSON webhook,
 * and the group-robot webhooks Chinese offices use (企业微信 WeCom, 钉钉
 * DingTalk with its signing secret, 飞书 Feishu with its signing secret).
 *
 * One notifier thread sends; the caller (the centre's engine) never waits
 * for it. notifier_submit() hands a message over and returns at once; each
 * attempt's outcome comes back through notifier_take_done() (the done fd
 * becomes readable), so the caller can keep a delivery log. A message that
 * fails is retried with exponential backoff (1 s, 2 s, 4 s ... capped at
 * 5 min) up to its channel's retries; each attempt is bounded by the
 * channel's timeout (connect and transfer), so a channel that hangs or
 * refuses costs that channel's messages time, never the caller's.
 * Messages to different channels do not wait behind each other: a channel
 * that is backing off does not delay another channel's sending.
 *
 * src/notify/curl_send.c is the only file that includes curl/curl.h. TLS
 * (https, smtps, STARTTLS) always verifies the peer's certificate and
 * name; the CA bundle is the system's unless the channel names one.
 * Nothing is sent anywhere but the configured URLs (air-gapped networks
 * point them at internal addresses).
 */
#ifndef YINGJI_NOTIFY_NOTIFY_H
#define YINGJI_NOTIFY_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan/plan.h"

#define NOTIFY_TEXT_MAX		(16u * 1024)	/* subject + text, bytes */
#define NOTIFY_RECIPIENTS_MAX	64

/* Everything needed to send one message; owns its strings. */
struct notify_message {
	uint64_t	 id;		/* the caller's (outbox row id); echoed in results */
	enum plan_channel_kind kind;
	char		*channel_id;	/* for logs */
	char		*url;		/* webhook URL or smtp[s]://host[:port] */
	char		*secret;	/* dingtalk/feishu signing secret; NULL: none */
	char		*from;		/* email sender */
	char		*username, *password;	/* SMTP AUTH; NULL: none */
	char		*ca_file;	/* CA bundle for TLS; NULL: the system's */
	char		*recipients[NOTIFY_RECIPIENTS_MAX];	/* email addresses (email); for robots: phone numbers to @mention; may be empty */
	size_t		 nrecipients;
	char		*subject;	/* one line */
	char		*text;		/* plain text, UTF-8, may have newlines */
	int64_t		 timeout_ns;	/* per attempt; 0: 10 s */
	unsigned	 retries;	/* attempts after the first */
	unsigned	 attempts_done;	/* attempts made before this submit (a restart resumes); 0 */
};

/* A new message for channel ch (copies the channel's settings). The caller
 * fills id, recipients, subject, text. */
struct notify_message *notify_message_new(const struct plan_channel *ch);
void	notify_message_free(struct notify_message *m);	/* accepts NULL */
/* Adds a recipient (copied); -E2BIG past NOTIFY_RECIPIENTS_MAX. */
int	notify_message_add_recipient(struct notify_message *m, const char *to);

/* The outcome of one attempt. */
struct notify_result {
	struct notify_result *next;
	uint64_t	 id;
	unsigned	 attempt;	/* 1-based */
	bool		 sent;		/* delivered (2xx and, for robots, errcode 0) */
	bool		 final;		/* no more attempts for this message (sent, or gave up) */
	int64_t		 time_ns;	/* realtime, when the attempt ended */
	int64_t		 next_try_ns;	/* realtime of the next attempt; 0 when final */
	char		 error[256];	/* why it failed: "connection refused", "timed out after 2 s", "HTTP 500", "errcode 310000: sign not match" */
};

struct notifier;

/* Starts the thread (curl_global_init happens here). -errno. */
int	notifier_start(struct notifier **ret);
/* Stops the thread: messages not yet sent are given up (results with
 * final=true, error "stopped") so the caller's outbox keeps them queued for
 * the next start. Accepts NULL. */
void	notifier_stop(struct notifier *n);
/* notifier_stop() that hands back every result not yet taken, the
 * "stopped" ones last (notifier_stop() frees them, as n is gone after it).
 * Caller frees with free(). */
struct notify_result *notifier_stop_take(struct notifier *n);
/* Hands m over (takes ownership). Never blocks on the network. */
void	notifier_submit(struct notifier *n, struct notify_message *m);
/* eventfd, readable when results wait. */
int	notifier_done_fd(const struct notifier *n);
/* Takes the waiting results, oldest first (caller frees with free()). */
struct notify_result *notifier_take_done(struct notifier *n);

/* Building blocks, exposed for tests and the fuzz target. */
/* The request body for kind (JSON for robots and webhooks; an RFC 5322
 * message with UTF-8 subject (RFC 2047) and base64 body for email). */
int	notify_render(const struct notify_message *m, int64_t now_ns, char **ret_body,
		size_t *ret_len);
/* The URL to POST to: for DingTalk with a secret, url&timestamp=..&sign=..
 * (HMAC-SHA256 of "timestamp\nsecret" keyed by secret, base64, URL-encoded);
 * others unchanged. Feishu signs inside the body (notify_render). */
int	notify_url(const struct notify_message *m, int64_t now_ns, char **ret_url);
/* Whether a robot's answer body means success (errcode/code 0); webhooks:
 * any 2xx. error gets the reason otherwise. */
bool	notify_answer_ok(enum plan_channel_kind kind, long http_status, const char *body,
		size_t len, char *error, size_t error_size);

#endif
