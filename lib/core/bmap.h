/*
 * bmap.h - a hash map from a byte string (at most 128 bytes) to a pointer.
 * Open addressing with tombstones; grows at 1/2 load. The map owns copies of
 * the keys, not the values.
 */
#ifndef YINGJI_BMAP_H
#define YINGJI_BMAP_H

#include <stddef.h>
#include <stdint.h>

#define BMAP_MAX_KEY	128

struct bmap_slot {
	uint8_t		 len;		/* 0 empty, 0xff tombstone */
	uint8_t		 key[BMAP_MAX_KEY];
	void		*value;
};

struct bmap {
	struct bmap_slot	*slots;
	size_t			 nslots, used, filled;
};

void	 bmap_init(struct bmap *m);
void	 bmap_release(struct bmap *m);
/* Insert or replace; returns the old value (or NULL). -E2BIG keys are ignored. */
void	*bmap_put(struct bmap *m, const void *key, size_t len, void *value);
void	*bmap_get(const struct bmap *m, const void *key, size_t len);
void	*bmap_del(struct bmap *m, const void *key, size_t len);
/* Visit every value; the callback may not modify the map. */
void	 bmap_each(const struct bmap *m, void (*fn)(void *value, void *data), void *data);

#endif
