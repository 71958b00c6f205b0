/*
 * detector_internal.h - the detector's compiled form, shared by the files of
 * the detector (detector.c: building and matching; line_filter.c: which lines
 * are worth decoding). Not an API: use detector.h.
 */
#ifndef YINGJI_DETECT_DETECTOR_INTERNAL_H
#define YINGJI_DETECT_DETECTOR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "detect/detector.h"

struct hsdb;
struct hsdb_scratch;
struct pcre_re;
struct corr_table;
struct lru_map;

#define FIELD_RAW		(-1)	/* a keyword test: the raw line */
#define MATCHED_MAX		1024	/* alert.matched, with its NUL */
#define GROUP_MAX		512	/* group keys */
#define MAX_GROUPS		100000	/* correlation / suppression groups kept */
#define COND_MAX_DEPTH		256

enum cv_kind { CV_HS = 1, CV_PCRE, CV_CIDR, CV_EXISTS, CV_NULL };

struct cval {
	enum cv_kind			 kind;
	unsigned			 id;		/* CV_HS: pattern id */
	struct pcre_re			*re;		/* CV_PCRE */
	bool				 exists;	/* CV_EXISTS */
	int				 family;	/* CV_CIDR */
	unsigned			 prefix;
	unsigned char			 net[16];
	const struct sigma_value	*src;
};

struct ctest {
	int				 field;		/* index in d->fields, or FIELD_RAW */
	bool				 all;
	struct cval			*vals;
	size_t				 nvals;
	const struct sigma_field_test	*src;
};

struct cmap {
	struct ctest	*tests;
	size_t		 ntests;
};

struct csel {
	struct cmap	*maps;
	size_t		 nmaps;
};

struct corr_ref {
	uint32_t	ci;		/* correlation number */
	size_t		slot;		/* index in its rules[] */
};

struct crule {
	const struct sigma_rule	*src;
	struct csel		*sels;
	bool			 dropped, quiet;
	/* It cannot hold unless one of its trigger patterns matches (each
	 * selection the condition needs has a Hyperscan key test in every map). */
	bool			 filterable;
	bool			*need;		/* filterable: the selections one of which must change */
	uint32_t		 ls_gen;	/* logsource_fits cached for d->ls_gen */
	bool			 ls_fits;
	struct corr_ref		*corrs;
	size_t			 ncorrs, corrs_cap;
};

struct cfield {
	char		*name;		/* as first written; compared case-insensitively */
	/* Patterns, while building. */
	char		**exprs;
	unsigned	*flags, *ids;
	size_t		 n, cap;
	struct hsdb	*db;
	uint32_t	*triggers;	/* rules to evaluate when the field is present */
	size_t		 ntriggers, triggers_cap;
};

struct kwgroup {
	const struct sigma_logsource	*ls;
	struct cfield			 f;
	uint32_t			 ls_gen;	/* fits cached for d->ls_gen */
	bool				 fits;
};

struct pat {
	uint32_t	 rule;
	struct cval	*cv;
	int		 field;
	bool		 trigger;	/* a hit makes the rule worth evaluating */
};

struct supp {
	int64_t		first_ns, last_ns, window_end;
	uint64_t	held;
};

struct detector {
	const struct sigma_ruleset	*rs;
	struct detector_opts		 opts;
	struct crule			*rules;
	size_t				 nrules, nrules_used;
	struct cfield			*fields;
	size_t				 nfields, fields_cap;
	uint32_t			*ftab;		/* field index + 1, 0 empty */
	size_t				 ftab_size;	/* a power of two */
	/* Keyword databases, one per distinct logsource of the rules using
	 * keywords: a line is searched only for the keywords of rules whose
	 * logsource fits it. */
	struct kwgroup			*kw;
	size_t				 nkw, kw_cap;
	struct pat			*pats;
	size_t				 npats, pats_cap;
	struct hsdb_scratch		*scratch;
	uint32_t			*always;
	size_t				 nalways;
	/* Correlations in use: corrs[ci] (NULL when refused). */
	const struct sigma_correlation	**corrs;
	size_t				 ncorrs, ncorrs_used;
	struct corr_table		*corr;
	struct lru_map			*supp;
	struct buf			 report;
	size_t				 hs_patterns, pcre_patterns;
	/* Per record, sized once. */
	uint64_t			*bits;
	unsigned			*hit_ids;
	const struct record_field	**fval;
	uint32_t			*fset;
	size_t				 nfset;
	uint32_t			*cand, *stamp;
	size_t				 ncand;
	uint32_t			 cur_stamp;
	bool				*selres;
	size_t				 max_sels;
	const struct record		*rec;
	int64_t				 seq;
	/* Field lookups by the record's name pointer (decoders mostly use
	 * constant names), checked against a copy of the name. */
	struct name_cache {
		const char	*ptr;
		int		 idx;
		char		 name[32];
	}				 ncache[128];
	/* The last record's logsource: rules' fits are cached while it stays. */
	char				 ls[3][32];
	uint32_t			 ls_gen;
	struct buf			 matched, group;
	/* While building. */
	struct buf			*errors;
	int				 cache_dirfd;	/* -1: no cache */
	size_t				 hs_dbs, hs_dbs_cached;
	/* The line filter (line_filter.c): lf_db NULL when lines cannot be
	 * filtered (lf_why says why). */
	struct hsdb			*lf_db;
	size_t				 lf_literals;
	const char			*lf_why;
	size_t				*lf_cand;	/* line starts, per block */
	size_t				 lf_ncand, lf_cap;
};

/* Building the line filter (line_filter.c), after the rules are planned;
 * its findings go to d->report. Freeing it. */
void	line_filter_build(struct detector *d);
void	line_filter_free(struct detector *d);
/* How rare a line holding what one test needs is likely to be (0: the test
 * has no literal text, or is not a Hyperscan-only test). */
size_t	line_filter_test_strength(struct detector *d, const struct ctest *ct);

#endif
