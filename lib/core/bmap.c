/* bmap.c - open-addressing hash map keyed by short byte strings. */
#include "core/bmap.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "core/banned.h"

#define TOMBSTONE	0xff

static uint64_t
key_hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h ^ (h >> 29);
}

void
bmap_init(struct bmap *m)
{
	memset(m, 0, sizeof(*m));
}

void
bmap_release(struct bmap *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

static struct bmap_slot *
find_slot(const struct bmap *m, const void *key, size_t len, bool for_insert)
{
	struct bmap_slot *tomb = NULL;
	size_t s;

	if (m->nslots == 0)
		return NULL;
	s = key_hash(key, len) & (m->nslots - 1);
	for (;;) {
		struct bmap_slot *sl = &m->slots[s];

		if (sl->len == 0)
			return for_insert ? (tomb != NULL ? tomb : sl) : NULL;
		if (sl->len == TOMBSTONE) {
			if (tomb == NULL)
				tomb = sl;
		} else if (sl->len == len && memcmp(sl->key, key, len) == 0) {
			return sl;
		}
		s = (s + 1) & (m->nslots - 1);
	}
}

/* Rebuild the table: twice as large when live keys fill it, the same size
 * when it is mostly tombstones (so insert/delete churn never grows it). */
static void
grow(struct bmap *m)
{
	struct bmap_slot *old = m->slots;
	size_t oldn = m->nslots;

	if (oldn == 0)
		m->nslots = 64;
	else if ((m->used + 1) * 4 > oldn)
		m->nslots = oldn * 2;
	m->slots = xcalloc(m->nslots, sizeof(*m->slots));
	m->used = m->filled = 0;
	for (size_t i = 0; i < oldn; i++)
		if (old[i].len != 0 && old[i].len != TOMBSTONE)
			bmap_put(m, old[i].key, old[i].len, old[i].value);
	free(old);
}

void *
bmap_put(struct bmap *m, const void *key, size_t len, void *value)
{
	struct bmap_slot *sl;
	void *prev;

	if (len == 0 || len > BMAP_MAX_KEY)
		return NULL;
	if ((m->filled + 1) * 2 > m->nslots)
		grow(m);
	sl = find_slot(m, key, len, true);
	if (sl->len == len && memcmp(sl->key, key, len) == 0) {
		prev = sl->value;
		sl->value = value;
		return prev;
	}
	if (sl->len == 0)
		m->filled++;
	sl->len = (uint8_t)len;
	memcpy(sl->key, key, len);
	sl->value = value;
	m->used++;
	return NULL;
}

void *
bmap_get(const struct bmap *m, const void *key, size_t len)
{
	struct bmap_slot *sl;

	if (len == 0 || len > BMAP_MAX_KEY)
		return NULL;
	sl = find_slot(m, key, len, false);
	return sl != NULL ? sl->value : NULL;
}

void *
bmap_del(struct bmap *m, const void *key, size_t len)
{
	struct bmap_slot *sl;
	void *prev;

	if (len == 0 || len > BMAP_MAX_KEY)
		return NULL;
	sl = find_slot(m, key, len, false);
	if (sl == NULL)
		return NULL;
	prev = sl->value;
	sl->len = TOMBSTONE;
	sl->value = NULL;
	m->used--;
	return prev;
}

void
bmap_each(const struct bmap *m, void (*fn)(void *value, void *data), void *data)
{
	for (size_t i = 0; i < m->nslots; i++)
		if (m->slots[i].len != 0 && m->slots[i].len != TOMBSTONE)
			fn(m->slots[i].value, data);
}
