/*
 * correlation.h - windows of Sigma correlation rules per group-by key, and
 * the bounded keyed map they (and the detector's suppression) live in.
 *
 * lru_map: entries keyed by (owner number, bytes), each with a fixed-size
 * payload, at most max entries: adding one more evicts the least recently
 * used (the evict callback sees it first). Memory is allocated when a key is
 * first seen, never per lookup.
 *
 * corr_table: for each correlation and group key, the window of one of
 *  - event_count: gt/gte over a sliding window of timespan (the times of the
 *    last `count` events are kept); lt/lte/eq over a window that starts at
 *    the group's first event and is judged when it ends;
 *  - value_count: distinct values of value_field (hashes, with the time each
 *    was last seen), same two kinds of window;
 *  - temporal: the last time each referenced rule was seen; fires when all
 *    were seen within timespan.
 * A group that fires starts again empty. Times are record times in ns, or
 * any monotonic counter for records without one.
 */
#ifndef YINGJI_DETECT_CORRELATION_H
#define YINGJI_DETECT_CORRELATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detect/sigma/rule.h"

struct lru_map;

typedef void (*lru_evict_cb)(uint32_t owner, const char *key, size_t klen, void *payload,
		void *data);

/* payload_size bytes per entry, zeroed when the entry is made; release (may
 * be NULL) frees what a payload holds, when an entry goes. */
struct lru_map	*lru_map_new(size_t max, size_t payload_size, void (*release)(void *payload));
void	 lru_map_free(struct lru_map *m);
/* The payload for (owner, key), made (zeroed, *ret_created = true) when new;
 * the entry becomes the most recently used. evict (may be NULL) is told of
 * an entry pushed out to make room. */
void	*lru_map_get(struct lru_map *m, uint32_t owner, const char *key, size_t klen,
		lru_evict_cb evict, void *data, bool *ret_created);
size_t	 lru_map_size(const struct lru_map *m);
/* Call fn for every entry, oldest first. */
void	 lru_map_each(struct lru_map *m, lru_evict_cb fn, void *data);

/* Hard caps on what one group keeps. */
#define CORR_MAX_COUNT		65536	/* event_count/value_count threshold */
#define CORR_MAX_RULES		64	/* rules referenced by a temporal correlation */

struct corr_table;

struct corr_hit {
	uint64_t	count;		/* events, distinct values, or rules seen */
	int64_t		first_ns, last_ns;
	bool		continued;	/* the folded rest of an attack already alerted */
};

struct corr_table	*corr_table_new(size_t max_groups);
void	 corr_table_free(struct corr_table *t);
size_t	 corr_table_groups(const struct corr_table *t);	/* groups held now */
/* Whether this correlation can be run: 0, or -EINVAL with a reason. */
int	 corr_check(const struct sigma_correlation *c, const char **ret_reason);
/* One event for correlation number ci (c) in group key: rule_slot is the
 * index in c->rules of the rule that matched (temporal), value the record's
 * value_field (value_count; NULL when absent: not counted). Returns true and
 * fills *ret when the correlation fires for this group. A sliding (gt, gte,
 * temporal) correlation fires once per attack: after it fired, events of the
 * group are folded until the group was quiet for a timespan. */
bool	 corr_table_feed(struct corr_table *t, uint32_t ci, const struct sigma_correlation *c,
		size_t rule_slot, const char *key, size_t klen, const char *value, size_t vlen,
		int64_t now, struct corr_hit *ret);
/* The end of input: windows judged when they end (lt, lte, eq) are judged
 * now, and fire gets those that hold; a sliding correlation's folded events
 * (the rest of an attack already alerted) are reported with their count.
 * corrs[ci] is correlation number ci. */
typedef void (*corr_fire_cb)(uint32_t ci, const char *key, size_t klen,
		const struct corr_hit *h, void *data);
/* The same for the windows that have ended by now only (a long-running
 * detector calls it from time to time). */
void	 corr_table_expire(struct corr_table *t, const struct sigma_correlation *const *corrs,
		int64_t now, corr_fire_cb fire, void *data);
void	 corr_table_flush(struct corr_table *t, const struct sigma_correlation *const *corrs,
		corr_fire_cb fire, void *data);

#endif
