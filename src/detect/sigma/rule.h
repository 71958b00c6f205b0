/*
 * rule.h - Sigma rules as Yingji holds them after parsing (sigma/parse.c),
 * before compiling (detect/detector.c). https://sigmahq.io/docs/ - the
 * specification: a rule's detection is a set of named search identifiers
 * (selections) and a condition over them.
 *
 * A selection is either
 *  - a map (or a list of maps, OR-ed): every field test in a map must hold;
 *    a field test "field|mod|mod: value or [values]" holds when any value
 *    matches (all of them with |all);
 *  - a list of plain values (keywords): any of them found in the record's
 *    raw line (case-insensitive).
 * Values are strings (numbers and booleans taken as their text), or null
 * ("field: null": the field is absent or empty).
 *
 * Modifiers: contains, startswith, endswith, all, re (with i, m, s), cidr,
 * base64, base64offset (each with contains), windash, exists, cased. Without
 * re, Sigma's wildcards apply: '*' any run, '?' one character, '\' escapes.
 * String matching is case-insensitive unless |cased.
 */
#ifndef YINGJI_DETECT_RULE_H
#define YINGJI_DETECT_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sigma_op {
	SIGMA_EQUALS = 1,	/* the whole value (wildcards allowed) */
	SIGMA_CONTAINS,
	SIGMA_STARTSWITH,
	SIGMA_ENDSWITH,
	SIGMA_RE,		/* PCRE-style regular expression */
	SIGMA_CIDR,		/* an IPv4 or IPv6 network */
	SIGMA_EXISTS,		/* the field is there (value true) or not (false) */
	SIGMA_NULL,		/* the field is absent or empty */
};

/* One value to compare with. base64/base64offset/windash are expanded when
 * parsing into several values (OR-ed), so the compiler sees plain ones. */
struct sigma_value {
	enum sigma_op	 op;
	char		*text;		/* as written, wildcards and escapes intact; NULL for
					   EXISTS/NULL */
	size_t		 len;
	bool		 cased;		/* |cased: case-sensitive */
	bool		 wildcards;	/* text holds unescaped * or ? */
	bool		 exists;	/* SIGMA_EXISTS: true or false */
	unsigned	 re_flags;	/* SIGMA_RE: SIGMA_RE_I | _M | _S */
};
#define SIGMA_RE_I	1u
#define SIGMA_RE_M	2u
#define SIGMA_RE_S	4u

struct sigma_field_test {
	char			*field;		/* NULL: a keyword (the raw line) */
	bool			 all;		/* |all: every value must match */
	struct sigma_value	*values;
	size_t			 nvalues;
};

/* A map: AND of its tests. */
struct sigma_map {
	struct sigma_field_test	*tests;
	size_t			 ntests;
};

/* A search identifier: OR of its maps (a keyword list is one map holding one
 * keyword test with every keyword as a value). */
struct sigma_selection {
	char			*name;
	struct sigma_map	*maps;
	size_t			 nmaps;
};

enum sigma_cond_kind {
	SIGMA_COND_SEL = 1,	/* sel: index of a selection */
	SIGMA_COND_NOT,		/* a */
	SIGMA_COND_AND,		/* a, b */
	SIGMA_COND_OR,		/* a, b */
	SIGMA_COND_OF,		/* count (0 = all) of the selections in sels[] */
};

/* The condition as a tree in an array: children are indexes into
 * sigma_rule.cond_nodes. */
struct sigma_cond {
	enum sigma_cond_kind	 kind;
	unsigned		 sel;		/* SEL */
	unsigned		 a, b;		/* NOT, AND, OR */
	unsigned		 count;		/* OF: 1 for "1 of"/"any of", 0 for "all of" */
	unsigned		*sels;		/* OF: the selections it ranges over */
	size_t			 nsels;
};

struct sigma_logsource {
	char	*product, *category, *service;	/* NULL: any */
};

enum sigma_level { SIGMA_INFORMATIONAL = 0, SIGMA_LOW, SIGMA_MEDIUM, SIGMA_HIGH, SIGMA_CRITICAL };

struct sigma_rule {
	char			*id;		/* the rule's id (a UUID), or the file name */
	char			*name;		/* "name:" (correlations refer to it), may be NULL */
	char			*title;
	char			*description;	/* may be NULL */
	char			*status;	/* may be NULL */
	enum sigma_level	 level;
	char			**tags;
	size_t			 ntags;
	struct sigma_logsource	 logsource;
	struct sigma_selection	*sels;
	size_t			 nsels;
	struct sigma_cond	*cond_nodes;
	size_t			 ncond_nodes;
	unsigned		*conditions;	/* roots: a rule matches when any holds */
	size_t			 nconditions;
	char			*path;		/* the file it came from */
	unsigned		 line;		/* where its document starts */
};

/* Sigma correlation rules (https://github.com/SigmaHQ/sigma-specification,
 * "Sigma Correlation Rules"). */
enum sigma_corr_type { SIGMA_EVENT_COUNT = 1, SIGMA_VALUE_COUNT, SIGMA_TEMPORAL };
enum sigma_cmp { SIGMA_GT = 1, SIGMA_GTE, SIGMA_LT, SIGMA_LTE, SIGMA_EQ };

struct sigma_correlation {
	char			*id, *name, *title;
	enum sigma_level	 level;
	enum sigma_corr_type	 type;
	char			**rules;	/* ids or names of the rules it counts */
	size_t			 nrules;
	char			**group_by;	/* fields; may be empty */
	size_t			 ngroup_by;
	int64_t			 timespan_ns;
	enum sigma_cmp		 cmp;		/* event_count, value_count */
	uint64_t		 count;
	char			*value_field;	/* value_count: the field whose distinct values count */
	bool			 generate;	/* the referenced rules also alert on their own */
	char			*path;
	unsigned		 line;
};

struct sigma_error {
	char		*path;
	unsigned	 line;
	char		*message;	/* English, says what and why */
};

struct sigma_ruleset {
	struct sigma_rule		**rules;
	size_t				 nrules;
	struct sigma_correlation	**corrs;
	size_t				 ncorrs;
	struct sigma_error		*errors;	/* rules refused, with the reason */
	size_t				 nerrors;
	size_t				 rules_cap, corrs_cap, errors_cap;
};

/* Load every *.yml / *.yaml under dir (recursively, not following symlinks;
 * several YAML documents per file allowed). A file or rule that cannot be
 * used is recorded in rs->errors and the rest go on; -errno only when dir
 * itself cannot be read. May be called for several dirs into one ruleset. */
int	sigma_load_dir(struct sigma_ruleset *rs, const char *dir);
/* Parse one file's text (for tests and fuzzing); path names it in errors. */
int	sigma_load_text(struct sigma_ruleset *rs, const char *path, const char *text, size_t len);
void	sigma_ruleset_release(struct sigma_ruleset *rs);	/* start from = { 0 } */
const char *sigma_level_name(enum sigma_level level);	/* "informational" ... "critical" */

#endif
