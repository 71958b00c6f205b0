/*
 * internal.h - what the files of src/notify share and nobody else sees.
 *
 *   notify_error_set()	 error text for a notify_result, made safe for a log
 *   struct notify_sender	 attempts in flight over one curl multi handle
 *			 (curl_send.c, the only file that includes curl/curl.h),
 *			 driven by the notifier thread (notifier.c)
 */
#ifndef YINGJI_NOTIFY_INTERNAL_H
#define YINGJI_NOTIFY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "notify/notify.h"

#define NOTIFY_ANSWER_MAX	(64u * 1024)	/* answer bytes kept; the rest is dropped */
#define NOTIFY_BODY_MAX		(1u << 20)	/* a rendered request body or email */
#define NOTIFY_TIMEOUT_DEFAULT_NS	(10 * (int64_t)1000000000)

/* printf into error[0..size): control characters become spaces, bytes that
 * are not UTF-8 become '?', and a cut never splits a character, so the text
 * can go straight into a log or a database column. */
void	notify_error_set(char *error, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The outcome of one attempt, as the sender reports it. */
struct notify_attempt_done {
	void	*data;		/* what notify_sender_start() was given */
	bool	 sent;
	char	 error[256];
};

struct notify_sender;

/* curl_global_init, once per process (thread-safe). -EIO on failure. */
int	notify_sender_global_init(void);
int	notify_sender_new(struct notify_sender **ret);	/* -ENOMEM */
/* Abandons every attempt still in flight (closing its connection) and frees
 * s. Accepts NULL. */
void	notify_sender_free(struct notify_sender *s);
/* Starts one attempt at sending m (rendered now, at now_ns realtime); m is
 * read only here. data comes back in the attempt's notify_attempt_done.
 * -EINVAL/-E2BIG when m cannot be rendered, -ENOMEM/-EIO when curl refuses;
 * error says why. */
int	notify_sender_start(struct notify_sender *s, const struct notify_message *m,
		int64_t now_ns, void *data, char *error, size_t error_size);
/* Moves the transfers on: waits at most timeout_ms for network progress or
 * for wake_fd (an eventfd, drained here) to become readable. -EIO when curl
 * fails as a whole. */
int	notify_sender_run(struct notify_sender *s, int wake_fd, int timeout_ms);
/* One finished attempt into *ret, or false when none is waiting. */
bool	notify_sender_take(struct notify_sender *s, struct notify_attempt_done *ret);

#endif
