/*
 * yaml_doc.h - a YAML stream as a small generic tree, one per document: maps,
 * sequences and scalars with their line numbers. The only user of libyaml
 * (sigma/yaml_doc.c); the Sigma parser (sigma/parse.c) reads these trees.
 *
 * Bounded: nesting at most YDOC_MAX_DEPTH, at most YDOC_MAX_NODES nodes per
 * document, scalars at most YDOC_MAX_SCALAR bytes. Anchors and aliases are
 * refused (they make a small text a huge tree). A document that breaks one
 * of these rules has ->error set and no tree; the others are kept. Malformed
 * YAML ends the stream: the documents before it are kept and ys->error says
 * what libyaml found and where.
 */
#ifndef YINGJI_DETECT_YAML_DOC_H
#define YINGJI_DETECT_YAML_DOC_H

#include <stdbool.h>
#include <stddef.h>

#define YDOC_MAX_DEPTH	64
#define YDOC_MAX_NODES	100000
#define YDOC_MAX_SCALAR	(64 * 1024)

enum ynode_kind { YNODE_SCALAR = 1, YNODE_SEQ, YNODE_MAP };

struct ynode {
	enum ynode_kind	  kind;
	unsigned	  line;		/* 1-based */
	bool		  quoted;	/* scalar: quoted or a block scalar (| >), so never null/bool */
	char		 *text;		/* scalar: NUL-terminated (may hold NULs before len) */
	size_t		  len;
	struct ynode	**kids;		/* seq: the items; map: key, value, key, value, ... */
	size_t		  nkids, kids_cap;
};

struct ydoc {
	struct ynode	*root;		/* NULL for an empty document or on error */
	unsigned	 line;		/* where the document starts */
	char		*error;		/* why this document was refused, or NULL */
	unsigned	 error_line;
};

struct ystream {
	struct ydoc	*docs;
	size_t		 ndocs, cap;
	char		*error;		/* "malformed YAML: ... at line N", or NULL */
	unsigned	 error_line;
};

/* Parse text[0..len) into ys (start from = { 0 }). Always returns 0: problems
 * are in ys->error and each document's ->error. */
int	ystream_parse(struct ystream *ys, const char *text, size_t len);
void	ystream_release(struct ystream *ys);

/* The value of key in a map (the first one), or NULL (also when map is not a map). */
const struct ynode *ynode_get(const struct ynode *map, const char *key);
/* A plain (unquoted) scalar spelling null: "", "~", "null", "Null", "NULL". */
bool	ynode_is_null(const struct ynode *n);

#endif
