/* watch_refs.c - chains of guard references per watched directory. */
#include "agent/guard/watch_refs.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/path.h"
#include "core/xalloc.h"
#include "core/banned.h"

struct watch_ref {
	size_t			 guard;
	uint64_t		 stamp;
	char			*rel;
	char			*only;
	struct watch_ref	*next;
};

static void
ref_free(struct watch_ref *r)
{
	free(r->rel);
	free(r->only);
	free(r);
}

static bool
same_kind(const struct watch_ref *r, size_t guard, const char *only)
{
	if (r->guard != guard)
		return false;
	if ((r->only == NULL) != (only == NULL))
		return false;
	return only == NULL || strcmp(r->only, only) == 0;
}

void
watch_refs_put(struct bmap *m, const void *key, size_t klen, size_t guard, uint64_t stamp,
	const char *rel, const char *only)
{
	struct watch_ref *head = bmap_get(m, key, klen), **pp, *r;

	for (pp = &head; *pp != NULL;) {
		if (same_kind(*pp, guard, only)) {
			r = *pp;
			*pp = r->next;
			ref_free(r);
			continue;
		}
		pp = &(*pp)->next;
	}
	r = xcalloc(1, sizeof(*r));
	r->guard = guard;
	r->stamp = stamp;
	r->rel = xstrdup(rel);
	r->only = only != NULL ? xstrdup(only) : NULL;
	r->next = head;
	bmap_put(m, key, klen, r);
}

void
watch_refs_dispatch(const struct bmap *m, const void *key, size_t klen, const char *name, pid_t pid,
	const struct watch_sink *sink)
{
	struct {
		size_t	 guard;
		char	*rel;
	} *hits = NULL;
	size_t n = 0, cap = 0;

	/* Collect first: a hit may re-register watches and free this chain. */
	for (const struct watch_ref *r = bmap_get(m, key, klen); r != NULL; r = r->next) {
		char *rel;

		if (r->only != NULL) {
			if (strcmp(name, r->only) != 0)
				continue;
			rel = xstrdup("");
		} else if (name[0] == '\0' || strcmp(name, ".") == 0) {
			rel = xstrdup(r->rel);
		} else {
			rel = path_join_rel(r->rel, name);
		}
		hits = xgrow(hits, &cap, n + 1, sizeof(*hits));
		hits[n].guard = r->guard;
		hits[n++].rel = rel;
	}
	for (size_t i = 0; i < n; i++) {
		sink->hit(sink->data, hits[i].guard, hits[i].rel, pid);
		free(hits[i].rel);
	}
	free(hits);
}

struct drop_ctx {
	size_t	 guard;
	struct {
		uint8_t	 key[BMAP_MAX_KEY];
		size_t	 len;
	} *keys;
	size_t	 n, cap;
};

static void
collect_all(struct bmap *m, struct drop_ctx *c)
{
	for (size_t i = 0; i < m->nslots; i++) {
		struct bmap_slot *sl = &m->slots[i];

		if (sl->len == 0 || sl->len == 0xff)
			continue;
		c->keys = xgrow(c->keys, &c->cap, c->n + 1, sizeof(*c->keys));
		memcpy(c->keys[c->n].key, sl->key, sl->len);
		c->keys[c->n++].len = sl->len;
	}
}

void
watch_refs_drop_guard(struct bmap *m, size_t guard, uint64_t keep_stamp,
	void (*gone)(const void *key, size_t klen, void *data), void *data)
{
	struct drop_ctx c = { .guard = guard };

	collect_all(m, &c);
	for (size_t i = 0; i < c.n; i++) {
		struct watch_ref *head = bmap_get(m, c.keys[i].key, c.keys[i].len), **pp, *r;
		bool changed = false;

		for (pp = &head; *pp != NULL;) {
			if ((*pp)->guard == guard && (*pp)->stamp != keep_stamp) {
				r = *pp;
				*pp = r->next;
				ref_free(r);
				changed = true;
				continue;
			}
			pp = &(*pp)->next;
		}
		if (!changed)
			continue;
		if (head == NULL) {
			bmap_del(m, c.keys[i].key, c.keys[i].len);
			if (gone != NULL)
				gone(c.keys[i].key, c.keys[i].len, data);
		} else {
			bmap_put(m, c.keys[i].key, c.keys[i].len, head);
		}
	}
	free(c.keys);
}

void
watch_refs_del(struct bmap *m, const void *key, size_t klen)
{
	struct watch_ref *r = bmap_del(m, key, klen);

	while (r != NULL) {
		struct watch_ref *next = r->next;

		ref_free(r);
		r = next;
	}
}

static void
free_chain(void *value, void *data)
{
	struct watch_ref *r = value;

	while (r != NULL) {
		struct watch_ref *next = r->next;

		ref_free(r);
		r = next;
	}
}

void
watch_refs_release(struct bmap *m)
{
	bmap_each(m, free_chain, NULL);
	bmap_release(m);
}

int
watch_each_ancestor(const char *path, int (*fn)(const char *dir, const char *name, void *data),
	void *data)
{
	char *copy = xstrdup(path), *save = NULL, *comp;
	char *comps[512];
	size_t n = 0;
	struct buf dir;
	int r = 0;

	/* "/a/b/c/root" gives ("/", "a"), ("/a", "b"), ("/a/b", "c"); the root's
	 * parent itself is registered by the watcher, with the root's name. */
	for (comp = strtok_r(copy, "/", &save); comp != NULL && n < 512;
		comp = strtok_r(NULL, "/", &save))
		comps[n++] = comp;
	buf_init(&dir, 0);
	buf_putc(&dir, '/');
	for (size_t i = 0; i + 1 < n && r == 0; i++) {
		r = fn(dir.data, comps[i], data);
		if (i > 0)
			buf_putc(&dir, '/');
		buf_puts(&dir, comps[i]);
	}
	buf_release(&dir);
	free(copy);
	return r;
}
