/* correlation.c - Sigma correlation windows per group, in a bounded LRU map
 * (see correlation.h). */
#include "detect/correlation.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "core/banned.h"

struct lru_ent {
	struct lru_ent	*hnext;		/* bucket chain */
	struct lru_ent	*prev, *next;	/* age list: head oldest */
	uint64_t	 hash;
	uint32_t	 owner;
	size_t		 klen;
	char		*key;		/* after the payload, NUL-terminated */
	_Alignas(16) unsigned char payload[];
};

struct lru_map {
	struct lru_ent	**buckets;
	size_t		  nbuckets;	/* a power of two */
	size_t		  n, max, payload_size;
	struct lru_ent	 *head, *tail;
	void		(*release)(void *payload);
};

static uint64_t
hash_key(uint32_t owner, const char *key, size_t klen)
{
	uint64_t h = UINT64_C(14695981039346656037) ^ owner;

	for (size_t i = 0; i < klen; i++) {
		h ^= (unsigned char)key[i];
		h *= UINT64_C(1099511628211);
	}
	return h ^ (h >> 29);
}

struct lru_map *
lru_map_new(size_t max, size_t payload_size, void (*release)(void *payload))
{
	struct lru_map *m = xcalloc(1, sizeof(*m));

	m->max = max > 0 ? max : 1;
	m->nbuckets = 64;
	while (m->nbuckets < m->max / 2 && m->nbuckets < (SIZE_MAX >> 2))
		m->nbuckets <<= 1;
	m->buckets = xcalloc(m->nbuckets, sizeof(*m->buckets));
	m->payload_size = (payload_size + 15) & ~(size_t)15;
	m->release = release;
	return m;
}

static void
age_unlink(struct lru_map *m, struct lru_ent *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		m->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		m->tail = e->prev;
	e->prev = e->next = NULL;
}

static void
age_append(struct lru_map *m, struct lru_ent *e)
{
	e->prev = m->tail;
	e->next = NULL;
	if (m->tail != NULL)
		m->tail->next = e;
	else
		m->head = e;
	m->tail = e;
}

static void
ent_remove(struct lru_map *m, struct lru_ent *e)
{
	struct lru_ent **pp = &m->buckets[e->hash & (m->nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	age_unlink(m, e);
	if (m->release != NULL)
		m->release(e->payload);
	free(e);
	m->n--;
}

void
lru_map_free(struct lru_map *m)
{
	if (m == NULL)
		return;
	while (m->head != NULL)
		ent_remove(m, m->head);
	free(m->buckets);
	free(m);
}

void *
lru_map_get(struct lru_map *m, uint32_t owner, const char *key, size_t klen,
		lru_evict_cb evict, void *data, bool *ret_created)
{
	uint64_t h = hash_key(owner, key, klen);
	struct lru_ent *e;

	for (e = m->buckets[h & (m->nbuckets - 1)]; e != NULL; e = e->hnext)
		if (e->hash == h && e->owner == owner && e->klen == klen &&
				memcmp(e->key, key, klen) == 0) {
			if (e != m->tail) {
				age_unlink(m, e);
				age_append(m, e);
			}
			*ret_created = false;
			return e->payload;
		}
	if (m->n >= m->max) {
		struct lru_ent *old = m->head;

		if (evict != NULL)
			evict(old->owner, old->key, old->klen, old->payload, data);
		ent_remove(m, old);
	}
	e = xcalloc(1, sizeof(*e) + m->payload_size + klen + 1);
	e->hash = h;
	e->owner = owner;
	e->klen = klen;
	e->key = (char *)e->payload + m->payload_size;
	if (klen > 0)
		memcpy(e->key, key, klen);
	e->hnext = m->buckets[h & (m->nbuckets - 1)];
	m->buckets[h & (m->nbuckets - 1)] = e;
	age_append(m, e);
	m->n++;
	*ret_created = true;
	return e->payload;
}

size_t
lru_map_size(const struct lru_map *m)
{
	return m->n;
}

void
lru_map_each(struct lru_map *m, lru_evict_cb fn, void *data)
{
	for (struct lru_ent *e = m->head; e != NULL; e = e->next)
		fn(e->owner, e->key, e->klen, e->payload, data);
}

/* ---- correlation windows ---- */

struct seen_value {
	uint64_t	hash;
	int64_t		t;
};

struct group {
	/* Windows judged at their end (lt, lte, eq); also temporal's mask. */
	int64_t			 first_ns, last_ns;
	uint64_t		 n;
	/* event_count, sliding: ring of the last event times. */
	int64_t			*ts;
	size_t			 ts_cap, ts_head, ts_n;
	/* value_count: distinct values. */
	struct seen_value	*vals;
	size_t			 nvals, vals_cap;
	/* temporal: when each rule was last seen. */
	int64_t			*last;
	uint64_t		 seen;
	/* Sliding: after an alert the same attack goes on until the group has
	 * been quiet for a timespan; what comes meanwhile is folded, not alerted. */
	int64_t			 quiet_until;
	uint64_t		 folded;
	int64_t			 folded_first, folded_last;
};

struct corr_table {
	struct lru_map	*groups;
};

static void
group_release(void *p)
{
	struct group *g = p;

	free(g->ts);
	free(g->vals);
	free(g->last);
}

struct corr_table *
corr_table_new(size_t max_groups)
{
	struct corr_table *t = xcalloc(1, sizeof(*t));

	t->groups = lru_map_new(max_groups, sizeof(struct group), group_release);
	return t;
}

void
corr_table_free(struct corr_table *t)
{
	if (t == NULL)
		return;
	lru_map_free(t->groups);
	free(t);
}

size_t
corr_table_groups(const struct corr_table *t)
{
	return lru_map_size(t->groups);
}

int
corr_check(const struct sigma_correlation *c, const char **ret_reason)
{
	const char *why = NULL;

	if (c->nrules == 0)
		why = "references no rule";
	else if (c->timespan_ns <= 0)
		why = "has no timespan";
	else if (c->type == SIGMA_TEMPORAL && c->nrules > CORR_MAX_RULES)
		why = "a temporal correlation may reference at most 64 rules";
	else if (c->type != SIGMA_TEMPORAL && c->count > CORR_MAX_COUNT)
		why = "count is above 65536";
	else if (c->type != SIGMA_TEMPORAL && (c->cmp < SIGMA_GT || c->cmp > SIGMA_EQ))
		why = "has no condition";
	else if (c->type == SIGMA_VALUE_COUNT && c->value_field == NULL)
		why = "value_count needs condition.field";
	else if (c->type < SIGMA_EVENT_COUNT || c->type > SIGMA_TEMPORAL)
		why = "has an unknown type";
	if (why == NULL)
		return 0;
	if (ret_reason != NULL)
		*ret_reason = why;
	return -EINVAL;
}

static bool
cmp_holds(enum sigma_cmp cmp, uint64_t n, uint64_t count)
{
	switch (cmp) {
	case SIGMA_GT:	return n > count;
	case SIGMA_GTE:	return n >= count;
	case SIGMA_LT:	return n < count;
	case SIGMA_LTE:	return n <= count;
	case SIGMA_EQ:	return n == count;
	}
	return false;
}

static bool
is_sliding(const struct sigma_correlation *c)
{
	return c->type == SIGMA_TEMPORAL || c->cmp == SIGMA_GT || c->cmp == SIGMA_GTE;
}

/* Events or distinct values a sliding gt/gte window needs to fire. */
static size_t
needed(const struct sigma_correlation *c)
{
	uint64_t need = c->cmp == SIGMA_GT ? c->count + 1 : c->count;

	return need > 0 ? (size_t)need : 1;
}

static void
group_clear(struct group *g)
{
	g->first_ns = g->last_ns = 0;
	g->n = 0;
	g->ts_head = g->ts_n = 0;
	g->nvals = 0;
	g->seen = 0;
}

static uint64_t
hash_value(const char *v, size_t len)
{
	return hash_key(0, v, len);
}

static void
add_value(struct group *g, const char *value, size_t vlen, int64_t now, size_t cap)
{
	uint64_t h = hash_value(value, vlen);

	for (size_t i = 0; i < g->nvals; i++)
		if (g->vals[i].hash == h) {
			g->vals[i].t = now;
			return;
		}
	if (g->nvals >= cap)
		return;
	if (g->nvals == g->vals_cap)
		g->vals = xgrow(g->vals, &g->vals_cap, g->nvals + 1, sizeof(*g->vals));
	g->vals[g->nvals].hash = h;
	g->vals[g->nvals].t = now;
	g->nvals++;
}

static bool
feed_sliding(struct group *g, const struct sigma_correlation *c, size_t rule_slot,
		const char *value, size_t vlen, int64_t now, struct corr_hit *ret)
{
	int64_t since = now - c->timespan_ns;

	if (c->type == SIGMA_EVENT_COUNT) {
		size_t need = needed(c);

		if (g->ts == NULL) {
			g->ts_cap = need;
			g->ts = xcalloc(need, sizeof(*g->ts));
		}
		while (g->ts_n > 0 && g->ts[g->ts_head] < since) {
			g->ts_head = (g->ts_head + 1) % g->ts_cap;
			g->ts_n--;
		}
		if (g->ts_n == g->ts_cap) {
			g->ts_head = (g->ts_head + 1) % g->ts_cap;
			g->ts_n--;
		}
		g->ts[(g->ts_head + g->ts_n) % g->ts_cap] = now;
		g->ts_n++;
		if (g->ts_n < need)
			return false;
		ret->count = g->ts_n;
		ret->first_ns = g->ts[g->ts_head];
		ret->last_ns = now;
		return true;
	}
	if (c->type == SIGMA_VALUE_COUNT) {
		size_t need = needed(c), j = 0;

		for (size_t i = 0; i < g->nvals; i++)
			if (g->vals[i].t >= since)
				g->vals[j++] = g->vals[i];
		g->nvals = j;
		if (value == NULL)
			return false;
		add_value(g, value, vlen, now, need);
		if (g->nvals < need)
			return false;
		ret->count = g->nvals;
		ret->first_ns = now;
		for (size_t i = 0; i < g->nvals; i++)
			if (g->vals[i].t < ret->first_ns)
				ret->first_ns = g->vals[i].t;
		ret->last_ns = now;
		return true;
	}
	/* temporal */
	if (g->last == NULL)
		g->last = xcalloc(c->nrules, sizeof(*g->last));
	g->last[rule_slot] = now;
	g->seen |= UINT64_C(1) << rule_slot;
	ret->first_ns = now;
	for (size_t i = 0; i < c->nrules; i++) {
		if (!(g->seen & (UINT64_C(1) << i)) || g->last[i] < since)
			return false;
		if (g->last[i] < ret->first_ns)
			ret->first_ns = g->last[i];
	}
	ret->count = c->nrules;
	ret->last_ns = now;
	return true;
}

/* A window judged at its end: how many it counted. */
static uint64_t
window_count(const struct group *g, const struct sigma_correlation *c)
{
	return c->type == SIGMA_VALUE_COUNT ? g->nvals : g->n;
}

bool
corr_table_feed(struct corr_table *t, uint32_t ci, const struct sigma_correlation *c,
		size_t rule_slot, const char *key, size_t klen, const char *value, size_t vlen,
		int64_t now, struct corr_hit *ret)
{
	struct group *g;
	bool created, fired = false;

	g = lru_map_get(t->groups, ci, key, klen, NULL, NULL, &created);
	if (is_sliding(c)) {
		if (rule_slot >= c->nrules)
			return false;
		/* One attack, one alert: more of it within a timespan of the last
		 * event is counted, and reported when input ends (flush). */
		if (now < g->quiet_until) {
			if (g->folded == 0)
				g->folded_first = now;
			g->folded++;
			g->folded_last = now;
			g->quiet_until = now + c->timespan_ns;
			return false;
		}
		if (!feed_sliding(g, c, rule_slot, value, vlen, now, ret))
			return false;
		ret->continued = false;
		group_clear(g);
		g->quiet_until = now + c->timespan_ns;
		return true;
	}
	if (g->n > 0 && now - g->first_ns > c->timespan_ns) {
		if (cmp_holds(c->cmp, window_count(g, c), c->count)) {
			ret->continued = false;
			ret->count = window_count(g, c);
			ret->first_ns = g->first_ns;
			ret->last_ns = g->last_ns;
			fired = true;
		}
		group_clear(g);
	}
	if (g->n == 0)
		g->first_ns = now;
	g->n++;
	g->last_ns = now;
	if (c->type == SIGMA_VALUE_COUNT && value != NULL)
		add_value(g, value, vlen, now, CORR_MAX_COUNT + 1);
	return fired;
}

struct flush_ctx {
	const struct sigma_correlation *const	*corrs;
	corr_fire_cb				 fire;
	void					*data;
};

static void
flush_one(uint32_t owner, const char *key, size_t klen, void *payload, void *data)
{
	struct flush_ctx *fc = data;
	const struct sigma_correlation *c = fc->corrs[owner];
	struct group *g = payload;
	struct corr_hit h;

	if (is_sliding(c)) {
		/* The folded rest of an attack already alerted: its count. */
		if (g->folded == 0)
			return;
		h.count = g->folded;
		h.first_ns = g->folded_first;
		h.last_ns = g->folded_last;
		h.continued = true;
		g->folded = 0;
		fc->fire(owner, key, klen, &h, fc->data);
		return;
	}
	if (g->n == 0 || !cmp_holds(c->cmp, window_count(g, c), c->count))
		return;
	h.continued = false;
	h.count = window_count(g, c);
	h.first_ns = g->first_ns;
	h.last_ns = g->last_ns;
	fc->fire(owner, key, klen, &h, fc->data);
	group_clear(g);
}

void
corr_table_flush(struct corr_table *t, const struct sigma_correlation *const *corrs,
		corr_fire_cb fire, void *data)
{
	struct flush_ctx fc = { corrs, fire, data };

	lru_map_each(t->groups, flush_one, &fc);
}

struct expire_ctx {
	struct flush_ctx	fc;
	int64_t			now;
};

static void
expire_one(uint32_t owner, const char *key, size_t klen, void *payload, void *data)
{
	struct expire_ctx *x = data;
	const struct sigma_correlation *c = x->fc.corrs[owner];
	struct group *g = payload;

	if (is_sliding(c) ? g->folded > 0 && x->now >= g->quiet_until :
		g->n > 0 && x->now - g->first_ns > c->timespan_ns)
		flush_one(owner, key, klen, payload, &x->fc);
}

void
corr_table_expire(struct corr_table *t, const struct sigma_correlation *const *corrs,
		int64_t now, corr_fire_cb fire, void *data)
{
	struct expire_ctx x = { { corrs, fire, data }, now };

	lru_map_each(t->groups, expire_one, &x);
}
