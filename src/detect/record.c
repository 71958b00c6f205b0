/* record.c - a decoded log line (see record.h). */
#include "detect/record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "core/banned.h"

void
record_init(struct record *r)
{
	memset(r, 0, sizeof(*r));
	/* Fixed size: values copied in must never move while the record lives. */
	r->arena = xmalloc(RECORD_ARENA_MAX);
}

void
record_reset(struct record *r)
{
	char *arena = r->arena;

	memset(r, 0, sizeof(*r));
	r->arena = arena;
}

void
record_release(struct record *r)
{
	free(r->arena);
	memset(r, 0, sizeof(*r));
}

int
record_add(struct record *r, const char *name, const char *value, size_t len)
{
	if (r->nfields >= RECORD_MAX_FIELDS)
		return -E2BIG;
	r->fields[r->nfields].name = name;
	r->fields[r->nfields].value = value;
	r->fields[r->nfields].len = len;
	r->nfields++;
	return 0;
}

int
record_add_copy(struct record *r, const char *name, const char *value, size_t len)
{
	char *dst;

	if (r->nfields >= RECORD_MAX_FIELDS || len + 1 > RECORD_ARENA_MAX - r->arena_len)
		return -E2BIG;
	dst = r->arena + r->arena_len;
	if (len > 0)
		memcpy(dst, value, len);
	dst[len] = '\0';
	r->arena_len += len + 1;
	return record_add(r, name, dst, len);
}

const struct record_field *
record_get(const struct record *r, const char *name)
{
	for (unsigned i = 0; i < r->nfields; i++)
		if (strcmp(r->fields[i].name, name) == 0)
			return &r->fields[i];
	return NULL;
}
