/*
 * incident_bench.c - alert to incident: how long from an alert's arrival
 * until it is grouped into an incident, graded, its clocks started, its
 * notification written to the outbox, and all of it committed (SQLite WAL,
 * synchronous=FULL, the centre's own code: incidents.c on the engine's
 * connection).
 *
 * A producer thread makes alerts at --rate per second (default 1000) for
 * --seconds; the consumer does what the engine does: takes every alert
 * waiting, one transaction (db_alert_insert + incidents_on_alert for each),
 * commit, hand the notifications over; every 250 ms, between batches, the
 * clocks' check (incidents_tick), as the engine runs it. Each alert's
 * latency is commit end minus its arrival. Alerts come from --hosts hosts
 * (default 50) and three kinds of attack, so most join an open incident and
 * some open new ones.
 *
 * The same run measures the floor: the same alerts stored by the same
 * group-commit loop without the incident step ("alerts only").
 *
 * Usage: incident_bench --plan FILE [--rate N] [--seconds S] [--hosts N] DIR
 * Prints: RESULT mode=... alerts=N incidents=N p50_us=.. p99_us=.. max_us=..
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/timeutil.h"
#include "plan/plan.h"
#include "server/incidents.h"
#include "server/store/db.h"

struct item {
	int64_t		 arrival;
	int64_t		 agent;
	int		 kind;
};

struct queue {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct item	*items;
	size_t		 head, tail, cap;
	bool		 done;
};

struct producer {
	struct queue	*q;
	int		 rate, seconds, hosts;
};

static const char *const titles[] = {
	"SQL injection attempt in a request",
	"SSH brute force: 10 or more failed logins from one address in 60 s",
	"Webshell access",
};

static void *
produce(void *arg)
{
	struct producer *p = arg;
	int64_t start = now_monotonic_ns(), period = 1000000000ll / p->rate;
	long total = (long)p->rate * p->seconds;

	for (long i = 0; i < total; i++) {
		int64_t due = start + i * period, now;
		struct timespec ts;

		while ((now = now_monotonic_ns()) < due) {
			ts.tv_sec = 0;
			ts.tv_nsec = due - now;
			nanosleep(&ts, NULL);
		}
		pthread_mutex_lock(&p->q->mu);
		p->q->items[p->q->tail++] = (struct item){ now, 1 + i % p->hosts, (int)(i / 7 % 3) };
		pthread_cond_signal(&p->q->cv);
		pthread_mutex_unlock(&p->q->mu);
	}
	pthread_mutex_lock(&p->q->mu);
	p->q->done = true;
	pthread_cond_signal(&p->q->cv);
	pthread_mutex_unlock(&p->q->mu);
	return NULL;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int
count_row(const struct db_row *row, void *data)
{
	*(int64_t *)data = db_row_int(row, 0);
	return 1;
}

static int
run(const char *dir, const struct plan *plan, bool with_incidents, int rate, int seconds,
	int hosts)
{
	struct queue q = { .cap = (size_t)rate * seconds + 1 };
	struct producer p = { &q, rate, seconds, hosts };
	struct incidents *im = NULL;
	struct db *s = NULL;
	pthread_t th;
	int64_t *lat, incidents = 0, next_tick = 0;
	size_t nlat = 0;
	char path[4096], head[4096];
	int r;

	snprintf(path, sizeof(path), "%s/%s.db", dir, with_incidents ? "incidents" : "alerts");
	snprintf(head, sizeof(head), "%s/audit.head", dir);
	unlink(path);
	r = db_open(path, false, &s);
	if (r < 0) {
		fprintf(stderr, "db_open %s: %s\n", path, strerror(-r));
		return 1;
	}
	if (with_incidents && (r = incidents_new(plan, s, head, &im)) < 0) {
		fprintf(stderr, "incidents_new: %s\n", strerror(-r));
		return 1;
	}
	q.items = calloc(q.cap, sizeof(*q.items));
	lat = calloc(q.cap, sizeof(*lat));
	pthread_mutex_init(&q.mu, NULL);
	pthread_cond_init(&q.cv, NULL);
	pthread_create(&th, NULL, produce, &p);
	for (;;) {
		size_t from, to;
		int64_t end;

		/* As the engine does: the clocks run between batches. */
		if (im != NULL && now_monotonic_ns() >= next_tick)
			next_tick = incidents_tick(im, s, now_realtime_ns());

		pthread_mutex_lock(&q.mu);
		while (q.head == q.tail && !q.done)
			pthread_cond_wait(&q.cv, &q.mu);
		from = q.head;
		to = q.tail;
		q.head = to;
		pthread_mutex_unlock(&q.mu);
		if (from == to)
			break;
		r = db_begin(s);
		for (size_t i = from; r == 0 && i < to; i++) {
			struct item *it = &q.items[i];
			struct db_alert a = {
				.rule_id = "bench", .title = titles[it->kind], .level = "high",
				.agent = it->agent, .time_ns = now_realtime_ns(),
				.received_ns = now_realtime_ns(), .count = 1,
				.line = "GET /index.php?id=1%27%20or%201=1 HTTP/1.1",
			};
			int64_t id = 0;

			r = db_alert_insert(s, &a, &id);
			if (r == 0 && im != NULL)
				r = incidents_on_alert(im, s, a.agent, a.rule_id, a.title, a.level, 1,
					NULL, NULL, id, a.time_ns, a.received_ns);
		}
		if (r == 0)
			r = db_commit(s);
		if (r < 0) {
			fprintf(stderr, "transaction: %s (%s)\n", strerror(-r), db_errmsg(s));
			return 1;
		}
		incidents_committed(im);
		end = now_monotonic_ns();
		for (size_t i = from; i < to; i++)
			lat[nlat++] = end - q.items[i].arrival;
	}
	pthread_join(th, NULL);
	qsort(lat, nlat, sizeof(*lat), cmp_i64);
	if (with_incidents)
		(void)db_query(s, "SELECT count(*) FROM incidents", count_row, &incidents, "");
	printf("RESULT mode=%s alerts=%zu incidents=%" PRId64 " p50_us=%.0f p99_us=%.0f "
		"max_us=%.0f rate=%d\n", with_incidents ? "incidents" : "alerts_only", nlat,
		incidents, nlat ? lat[nlat / 2] / 1e3 : 0, nlat ? lat[nlat * 99 / 100] / 1e3 : 0,
		nlat ? lat[nlat - 1] / 1e3 : 0, rate);
	incidents_free(im);
	db_close(s);
	free(q.items);
	free(lat);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *plan_path = NULL, *dir = NULL;
	int rate = 1000, seconds = 10, hosts = 50;
	struct plan *plan = NULL;
	struct plan_errors errs;
	int r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--plan") == 0 && i + 1 < argc)
			plan_path = argv[++i];
		else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
			rate = atoi(argv[++i]);
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = atoi(argv[++i]);
		else if (strcmp(argv[i], "--hosts") == 0 && i + 1 < argc)
			hosts = atoi(argv[++i]);
		else
			dir = argv[i];
	}
	if (plan_path == NULL || dir == NULL || rate < 1 || seconds < 1 || hosts < 1) {
		fprintf(stderr, "usage: incident_bench --plan FILE [--rate N] [--seconds S] "
			"[--hosts N] DIR\n");
		return 2;
	}
	r = plan_load(plan_path, &plan, &errs);
	if (r < 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s:%u: %s\n", plan_path, errs.items[i].line, errs.items[i].msg);
		return 2;
	}
	r = run(dir, plan, false, rate, seconds, hosts);
	if (r == 0)
		r = run(dir, plan, true, rate, seconds, hosts);
	plan_free(plan);
	return r;
}
