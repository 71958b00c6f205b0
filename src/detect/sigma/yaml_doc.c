/*
 * yaml_doc.c - libyaml's event stream turned into one small tree per document
 * (see yaml_doc.h). The only file of Yingji that includes <yaml.h>.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "core/xalloc.h"
#include "detect/sigma/yaml_doc.h"
#include "core/banned.h"

static void
ynode_free(struct ynode *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		ynode_free(n->kids[i]); /* depth is bounded by YDOC_MAX_DEPTH */
	free(n->kids);
	free(n->text);
	free(n);
}

void
ystream_release(struct ystream *ys)
{
	if (ys == NULL)
		return;
	for (size_t i = 0; i < ys->ndocs; i++) {
		ynode_free(ys->docs[i].root);
		free(ys->docs[i].error);
	}
	free(ys->docs);
	free(ys->error);
	memset(ys, 0, sizeof(*ys));
}

const struct ynode *
ynode_get(const struct ynode *map, const char *key)
{
	if (map == NULL || map->kind != YNODE_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < map->nkids; i += 2) {
		const struct ynode *k = map->kids[i];

		if (k->kind == YNODE_SCALAR && strcmp(k->text, key) == 0 &&
		    strlen(k->text) == k->len)
			return map->kids[i + 1];
	}
	return NULL;
}

bool
ynode_is_null(const struct ynode *n)
{
	if (n == NULL)
		return true;
	if (n->kind != YNODE_SCALAR || n->quoted)
		return false;
	return n->len == 0 || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
	       strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0;
}

/* The document being built. */
struct builder {
	struct ydoc *doc;
	struct ynode *stack[YDOC_MAX_DEPTH + 1];
	size_t depth;
	size_t nnodes;
	bool failed; /* doc->error set: consume events to its end */
};

static void
builder_fail(struct builder *b, unsigned line, const char *msg)
{
	if (b->failed)
		return;
	b->failed = true;
	b->doc->error = xstrdup(msg);
	b->doc->error_line = line;
	for (size_t i = 0; i < b->depth; i++)
		b->stack[i] = NULL;
	ynode_free(b->doc->root);
	b->doc->root = NULL;
	b->depth = 0;
}

/* Attach n under the open node (or as the root); takes n. */
static void
builder_add(struct builder *b, struct ynode *n)
{
	struct ynode *parent;

	if (b->depth == 0) {
		if (b->doc->root == NULL)
			b->doc->root = n;
		else
			ynode_free(n); /* cannot happen with libyaml */
		return;
	}
	parent = b->stack[b->depth - 1];
	parent->kids =
		xgrow(parent->kids, &parent->kids_cap, parent->nkids + 1, sizeof(*parent->kids));
	parent->kids[parent->nkids++] = n;
}

static struct ynode *
node_new(enum ynode_kind kind, const yaml_event_t *ev)
{
	struct ynode *n = xcalloc(1, sizeof(*n));

	n->kind = kind;
	n->line = (unsigned)ev->start_mark.line + 1;
	return n;
}

/* One event inside a document. */
static void
builder_event(struct builder *b, const yaml_event_t *ev)
{
	unsigned line = (unsigned)ev->start_mark.line + 1;
	struct ynode *n;
	const yaml_char_t *anchor = NULL;

	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		builder_fail(b, line, "anchors and aliases are not supported");
		return;
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		break;
	default:
		break;
	}
	if (anchor != NULL) {
		builder_fail(b, line, "anchors and aliases are not supported");
		return;
	}
	if (b->failed)
		return;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.length > YDOC_MAX_SCALAR) {
			builder_fail(b, line, "value too long (over 65536 bytes)");
			return;
		}
		if (++b->nnodes > YDOC_MAX_NODES) {
			builder_fail(b, line, "document too large (over 100000 nodes)");
			return;
		}
		n = node_new(YNODE_SCALAR, ev);
		n->len = ev->data.scalar.length;
		n->text = xmalloc(n->len + 1);
		memcpy(n->text, ev->data.scalar.value, n->len);
		n->text[n->len] = '\0';
		n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE &&
			    ev->data.scalar.style != YAML_ANY_SCALAR_STYLE;
		builder_add(b, n);
		return;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (b->depth >= YDOC_MAX_DEPTH) {
			builder_fail(b, line, "nested too deeply (over 64 levels)");
			return;
		}
		if (++b->nnodes > YDOC_MAX_NODES) {
			builder_fail(b, line, "document too large (over 100000 nodes)");
			return;
		}
		n = node_new(ev->type == YAML_SEQUENCE_START_EVENT ? YNODE_SEQ : YNODE_MAP, ev);
		builder_add(b, n);
		b->stack[b->depth++] = n;
		return;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (b->depth > 0)
			b->depth--;
		return;
	default:
		return;
	}
}

static void
stream_fail(struct ystream *ys, const yaml_parser_t *p, const char *text, size_t len)
{
	const char *problem = p->problem != NULL ? p->problem : "cannot be parsed";
	unsigned line = (unsigned)p->problem_mark.line + 1;

	if (p->error == YAML_READER_ERROR) {
		/* The reader (bad encoding, control bytes) gives a byte offset. */
		line = 1;
		for (size_t i = 0; i < p->problem_offset && i < len; i++)
			line += text[i] == '\n';
	}

	if (p->error == YAML_MEMORY_ERROR)
		problem = "out of memory";
	if (p->context != NULL)
		ys->error =
			xasprintf("malformed YAML: %s %s at line %u", p->context, problem, line);
	else
		ys->error = xasprintf("malformed YAML: %s at line %u", problem, line);
	ys->error_line = line;
}

int
ystream_parse(struct ystream *ys, const char *text, size_t len)
{
	yaml_parser_t parser;
	struct builder b = {0};
	bool in_doc = false, done = false;

	if (!yaml_parser_initialize(&parser)) {
		ys->error = xstrdup("malformed YAML: the parser could not start");
		return 0;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done) {
		yaml_event_t ev;

		if (!yaml_parser_parse(&parser, &ev)) {
			stream_fail(ys, &parser, text, len);
			if (in_doc) {
				/* The half-built document goes. */
				ynode_free(ys->docs[ys->ndocs - 1].root);
				free(ys->docs[ys->ndocs - 1].error);
				ys->ndocs--;
			}
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			ys->docs = xgrow(ys->docs, &ys->cap, ys->ndocs + 1, sizeof(*ys->docs));
			memset(&ys->docs[ys->ndocs], 0, sizeof(ys->docs[0]));
			ys->docs[ys->ndocs].line = (unsigned)ev.start_mark.line + 1;
			memset(&b, 0, sizeof(b));
			b.doc = &ys->docs[ys->ndocs];
			ys->ndocs++;
			in_doc = true;
			break;
		case YAML_DOCUMENT_END_EVENT:
			in_doc = false;
			b.doc = NULL;
			break;
		default:
			if (in_doc)
				builder_event(&b, &ev);
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return 0;
}
