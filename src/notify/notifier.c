/*
 * notifier.c - the notifier thread: a queue of messages ordered by when
 * each may next be tried, attempts running side by side on one curl multi
 * handle (curl_send.c), results handed back through a list and an eventfd.
 *
 * Scheduling:
 *   - a new message is due at once; a failed attempt makes it due again
 *     after 1 s, 2 s, 4 s ... (2^(attempt-1) s, at most 5 min), counting
 *     the attempts made before a restart (attempts_done), until 1 + retries
 *     attempts have been made;
 *   - at most one attempt per channel is in flight, so a channel's notices
 *     arrive in the order they were submitted while the channel works, and
 *     a robot's rate limit is not met with a burst. A channel that hangs
 *     costs its own messages one timeout each; every other channel's
 *     attempts run meanwhile, and a message backing off holds up nothing;
 *   - a message that cannot be rendered (a bad address, too long) fails
 *     at once for good: trying again would not change it.
 *
 * Locking: lock guards incoming, stopping and the done list, nothing else;
 * the queue and the sender belong to the thread. The thread never holds
 * the lock while it talks to the network.
 */
#include "notify/notify.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/timeutil.h"
#include "core/xalloc.h"
#include "notify/internal.h"
#include "core/banned.h"

#define NS_PER_S		((int64_t)1000000000)
#define BACKOFF_FIRST_NS	NS_PER_S
#define BACKOFF_MAX_NS		(300 * NS_PER_S)
#define WAIT_MAX_MS		60000	/* a lost wake-up costs at most this */

struct pending {
	struct pending	*next;
	struct notify_message *m;
	int64_t		 due_ns;	/* monotonic: the next attempt starts then or later */
	unsigned	 attempt;	/* attempts made, counting m->attempts_done */
	bool		 in_flight;
};

struct notifier {
	pthread_t	 thread;
	bool		 thread_started;
	int		 wake_fd;	/* submit and stop wake the thread */
	int		 done_fd;	/* readable while results wait */

	pthread_mutex_t	 lock;
	struct pending	*incoming, **incoming_tail;	/* under lock */
	bool		 stopping;			/* under lock */
	struct notify_result *done, **done_tail;	/* under lock */

	struct pending	*queue;		/* the thread's: by due_ns, FIFO among equals */
	struct notify_sender *sender;	/* the thread's */
};

/* The delay after the attempt-th attempt failed. */
static int64_t
backoff_ns(unsigned attempt)
{
	int64_t d = BACKOFF_FIRST_NS;

	for (unsigned i = 1; i < attempt && d < BACKOFF_MAX_NS; i++)
		d *= 2;
	return d < BACKOFF_MAX_NS ? d : BACKOFF_MAX_NS;
}

static void
eventfd_signal(int fd)
{
	uint64_t one = 1;

	(void)!write(fd, &one, sizeof(one));
}

static void
push_result(struct notifier *n, struct notify_result *res)
{
	pthread_mutex_lock(&n->lock);
	res->next = NULL;
	*n->done_tail = res;
	n->done_tail = &res->next;
	eventfd_signal(n->done_fd);
	pthread_mutex_unlock(&n->lock);
}

static struct notify_result *
result_new(const struct pending *p, unsigned attempt, bool sent, bool final, int64_t delay_ns,
	const char *error)
{
	struct notify_result *res = xcalloc(1, sizeof(*res));

	res->id = p->m->id;
	res->attempt = attempt;
	res->sent = sent;
	res->final = final;
	res->time_ns = now_realtime_ns();
	res->next_try_ns = final ? 0 : res->time_ns + delay_ns;
	snprintf(res->error, sizeof(res->error), "%s", error);
	return res;
}

static void
pending_free(struct pending *p)
{
	if (p == NULL)
		return;
	notify_message_free(p->m);
	free(p);
}

/* Messages to one channel share a key: its id, or its URL for a message
 * made without a plan channel. */
static const char *
channel_key(const struct notify_message *m)
{
	return m->channel_id != NULL ? m->channel_id : m->url != NULL ? m->url : "";
}

static void
queue_insert(struct notifier *n, struct pending *p)
{
	struct pending **pp = &n->queue;

	while (*pp != NULL && (*pp)->due_ns <= p->due_ns)
		pp = &(*pp)->next;
	p->next = *pp;
	*pp = p;
}

static void
queue_unlink(struct notifier *n, struct pending *p)
{
	for (struct pending **pp = &n->queue; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			p->next = NULL;
			return;
		}
	}
}

static bool
channel_busy(const struct notifier *n, const struct pending *p)
{
	const char *key = channel_key(p->m);

	for (const struct pending *q = n->queue; q != NULL; q = q->next)
		if (q != p && q->in_flight && strcmp(channel_key(q->m), key) == 0)
			return true;
	return false;
}

/* Starts every attempt that is due on a channel with nothing in flight. */
static void
start_due(struct notifier *n)
{
	int64_t now = now_monotonic_ns();
	struct pending *p = n->queue, *next;

	for (; p != NULL && p->due_ns <= now; p = next) {
		char error[sizeof(((struct notify_result *)0)->error)];

		next = p->next;
		if (p->in_flight || channel_busy(n, p))
			continue;
		if (notify_sender_start(n->sender, p->m, now_realtime_ns(), p, error,
			    sizeof(error)) == 0) {
			p->in_flight = true;
			continue;
		}
		queue_unlink(n, p);
		push_result(n, result_new(p, p->attempt + 1, false, true, 0, error));
		pending_free(p);
	}
}

/* How long the thread may sleep: until the first message that could start,
 * or indefinitely (WAIT_MAX_MS) when everything waits on the network. */
static int
wait_ms(const struct notifier *n)
{
	int64_t now = now_monotonic_ns(), wait = (int64_t)WAIT_MAX_MS * 1000000;

	for (const struct pending *p = n->queue; p != NULL; p = p->next) {
		if (p->in_flight || channel_busy(n, p))
			continue;
		if (p->due_ns - now < wait)
			wait = p->due_ns - now;
	}
	if (wait <= 0)
		return 0;
	return (int)((wait + 999999) / 1000000);	/* round up: never wake early */
}

/* Turns finished attempts into results; failures go back into the queue. */
static void
collect(struct notifier *n)
{
	struct notify_attempt_done d;

	while (notify_sender_take(n->sender, &d)) {
		struct pending *p = d.data;
		bool final;
		int64_t delay;

		p->in_flight = false;
		p->attempt++;
		final = d.sent || p->attempt > p->m->retries;
		delay = final ? 0 : backoff_ns(p->attempt);
		push_result(n, result_new(p, p->attempt, d.sent, final, delay, d.error));
		queue_unlink(n, p);
		if (final) {
			pending_free(p);
			continue;
		}
		p->due_ns = now_monotonic_ns() + delay;
		queue_insert(n, p);
	}
}

/* Each message still held gets a final "stopped" result for the attempt
 * that was cut short or never made; the caller keeps it queued. */
static void
give_up(struct notifier *n, struct pending *list)
{
	while (list != NULL) {
		struct pending *p = list;

		list = p->next;
		push_result(n, result_new(p, p->attempt + 1, false, true, 0, "stopped"));
		pending_free(p);
	}
}

static struct pending *
take_incoming(struct notifier *n, bool *ret_stopping)
{
	struct pending *in;

	pthread_mutex_lock(&n->lock);
	in = n->incoming;
	n->incoming = NULL;
	n->incoming_tail = &n->incoming;
	if (ret_stopping != NULL)
		*ret_stopping = n->stopping;
	pthread_mutex_unlock(&n->lock);
	return in;
}

static void *
notifier_main(void *arg)
{
	struct notifier *n = arg;

	for (;;) {
		bool stopping = false;
		struct pending *in = take_incoming(n, &stopping);
		int64_t now = now_monotonic_ns();

		while (in != NULL) {
			struct pending *p = in;

			in = p->next;
			p->due_ns = now;
			queue_insert(n, p);
		}
		if (stopping)
			break;
		start_due(n);
		if (notify_sender_run(n->sender, n->wake_fd, wait_ms(n)) < 0) {
			/* curl's multi handle itself failed: nothing to do but
			 * try again a little later rather than spin */
			usleep(100 * 1000);
		}
		collect(n);
	}
	/* Abandon the transfers first: they point at the queue's entries. */
	notify_sender_free(n->sender);
	n->sender = NULL;
	give_up(n, n->queue);
	n->queue = NULL;
	return NULL;
}

static void
notifier_free(struct notifier *n)
{
	struct notify_result *res;

	if (n == NULL)
		return;
	notify_sender_free(n->sender);
	while (n->queue != NULL) {
		struct pending *p = n->queue;

		n->queue = p->next;
		pending_free(p);
	}
	while (n->incoming != NULL) {
		struct pending *p = n->incoming;

		n->incoming = p->next;
		pending_free(p);
	}
	while ((res = n->done) != NULL) {
		n->done = res->next;
		free(res);
	}
	if (n->wake_fd >= 0)
		close(n->wake_fd);
	if (n->done_fd >= 0)
		close(n->done_fd);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

int
notifier_start(struct notifier **ret)
{
	struct notifier *n = NULL;
	sigset_t all, old;
	int r;

	r = notify_sender_global_init();
	if (r < 0)
		goto out;
	n = xcalloc(1, sizeof(*n));
	pthread_mutex_init(&n->lock, NULL);
	n->incoming_tail = &n->incoming;
	n->done_tail = &n->done;
	n->done_fd = -1;
	n->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (n->wake_fd < 0) {
		r = -errno;
		goto out;
	}
	n->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (n->done_fd < 0) {
		r = -errno;
		goto out;
	}
	r = notify_sender_new(&n->sender);
	if (r < 0)
		goto out;

	/* The thread takes no asynchronous signals (SIGPIPE from a peer that
	 * hung up included): they belong to the caller's main loop. Faults
	 * stay deliverable so a crash still reports. */
	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGABRT);
	sigdelset(&all, SIGTRAP);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&n->thread, NULL, notifier_main, n);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		goto out;
	n->thread_started = true;

	*ret = n;
	n = NULL;
out:
	notifier_free(n);
	return r;
}

void
notifier_submit(struct notifier *n, struct notify_message *m)
{
	struct pending *p;

	if (m == NULL)
		return;
	p = xcalloc(1, sizeof(*p));
	p->m = m;
	p->attempt = m->attempts_done;
	pthread_mutex_lock(&n->lock);
	*n->incoming_tail = p;
	n->incoming_tail = &p->next;
	pthread_mutex_unlock(&n->lock);
	eventfd_signal(n->wake_fd);
}

int
notifier_done_fd(const struct notifier *n)
{
	return n->done_fd;
}

struct notify_result *
notifier_take_done(struct notifier *n)
{
	struct notify_result *list;
	uint64_t v;

	pthread_mutex_lock(&n->lock);
	list = n->done;
	n->done = NULL;
	n->done_tail = &n->done;
	(void)!read(n->done_fd, &v, sizeof(v));	/* not readable until the next result */
	pthread_mutex_unlock(&n->lock);
	return list;
}

struct notify_result *
notifier_stop_take(struct notifier *n)
{
	struct notify_result *list;

	if (n == NULL)
		return NULL;
	pthread_mutex_lock(&n->lock);
	n->stopping = true;
	pthread_mutex_unlock(&n->lock);
	eventfd_signal(n->wake_fd);
	if (n->thread_started)
		pthread_join(n->thread, NULL);
	/* submitted after the thread's last look */
	give_up(n, take_incoming(n, NULL));
	list = notifier_take_done(n);
	notifier_free(n);
	return list;
}

void
notifier_stop(struct notifier *n)
{
	struct notify_result *list = notifier_stop_take(n);

	while (list != NULL) {
		struct notify_result *next = list->next;

		free(list);
		list = next;
	}
}
