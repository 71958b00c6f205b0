/*
 * detector.h - Sigma rules compiled to Hyperscan, run over records.
 *
 * Compiling: every value of every rule becomes one pattern in a Hyperscan
 * database per field name (keywords: a database for the raw line); wildcards
 * and contains/startswith/endswith become anchored expressions, case folded
 * unless |cased; |re patterns go to Hyperscan when it takes them and to PCRE2
 * when it refuses them (each refusal said in the build report); cidr, exists
 * and null are checked in code. A rule Hyperscan and PCRE2 both refuse is
 * reported (detector_build's errors) and left out; the rest work.
 *
 * Matching a record: one scan per field that some rule tests, setting a bit
 * per matched pattern; then the conditions of the rules whose logsource fits
 * the record (a rule's product/category/service, when given, must equal the
 * record's). Correlation rules (event_count, value_count, temporal) keep
 * per group-by windows of timespan; suppression keeps one alert per rule and
 * group for suppress_ns, counting the rest (reported when the window ends or
 * at detector_flush).
 *
 * Field names compare case-insensitively (ASCII). The suppression group is
 * the record's c-ip, else src_ip, else user, else "". The first match after
 * a window ends alerts with count = 1 + the matches held back, first_ns the
 * first held one. Records without a time (time_ns 0) are timed by a counter
 * that goes up by one per record (so a timespan counts records).
 */
#ifndef YINGJI_DETECT_DETECTOR_H
#define YINGJI_DETECT_DETECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "detect/record.h"
#include "detect/sigma/rule.h"

struct detector;

struct detector_opts {
	int64_t		 suppress_ns;	/* 0: every match alerts */
	/* Where compiled Hyperscan databases are kept between runs (hs_db.h:
	 * created 0700; refused unless the user's own): NULL, none. */
	const char	*cache_dir;
};

struct alert {
	const char		*rule_id;
	const char		*title;
	enum sigma_level	 level;
	bool			 correlation;	/* made by a correlation rule */
	const struct record	*record;	/* the line that set it off */
	uint64_t		 count;		/* matches folded into this alert (>= 1) */
	const char		*group;		/* correlation/suppression group key, or NULL */
	/* For a plain rule: the fields that matched ("name=value" pairs joined
	 * by "\n"), NUL-terminated. */
	const char		*matched;
	int64_t			 first_ns, last_ns;	/* record times (or line numbers when untimed) */
	/* The rest of an attack already alerted (suppressed matches, or a
	 * sliding correlation's folded events), reported with its count when the
	 * window ends or at detector_flush: an update, not a new attack. */
	bool			 continued;
};

/* Alerts for what was held back (detector_flush: suppressed counts and
 * correlation windows judged at their end; also a suppression group pushed
 * out of its bounded map) have record NULL: the line is gone by then. */

typedef void (*alert_cb)(const struct alert *a, void *data);

/* Compile rs (which must outlive the detector). Unusable rules are listed,
 * one per line "path: id: reason", in errors (may be NULL). */
int	detector_build(const struct sigma_ruleset *rs, const struct detector_opts *o,
		struct detector **ret, struct buf *errors);
void	detector_free(struct detector *d);
/* Run every rule over one record; cb gets each alert (valid during the call). */
int	detector_process(struct detector *d, const struct record *r, alert_cb cb, void *data);
/* For a long-running detector (the centre): report what suppression and
 * correlations hold for windows that have ended by now (record time, ns):
 * the counted rest of attacks already alerted ("continued"), and windows
 * judged at their end. */
void	detector_expire(struct detector *d, int64_t now, alert_cb cb, void *data);
/*
 * The line filter: for a block of raw lines, which ones could make any rule
 * match, so that the rest need not be decoded at all (offline detection
 * reads most lines only this far). One Hyperscan scan of the whole block for
 * the literal text that each rule's trigger patterns need (the longest piece
 * of a value without wildcards; a literal a regular expression cannot match
 * without), plus, for a pattern that matches a value decoders make up, that
 * value's witness (decode/vocab.h), plus a backslash (escaped values are
 * unescaped by decoders). Sound by construction: a line left out cannot hold
 * any rule's trigger, so no rule could hold on it. It is off (the whole
 * detector_filter_block answer is "every line") when some rule can hold
 * without any trigger (a condition true on an empty record, a selection
 * matched only by cidr/exists/null/PCRE tests, a value with no literal).
 * detector_report says which rule turned it off.
 *
 * buf[0..len) holds whole lines, each ending with '\n' (the last may lack
 * it). *ret gets the offsets of the lines that must be decoded, ascending
 * (owned by d, valid until the next call), *ret_n how many; -EIO on a
 * Hyperscan error (then decode every line). -ENOTSUP when the filter is off.
 */
int	detector_filter_block(struct detector *d, const char *buf, size_t len,
		const size_t **ret, size_t *ret_n);
/* Lines not decoded still count: records without a time are timed by their
 * number (see above). */
void	detector_skip(struct detector *d, uint64_t nrecords);
/* Report what suppression is still holding. */
void	detector_flush(struct detector *d, alert_cb cb, void *data);
/* The default cache directory (detector_opts.cache_dir) of a user's command:
 * $YINGJI_CACHE, else $XDG_CACHE_HOME/yingji, else $HOME/.cache/yingji.
 * -ENOENT when none is set. */
int	detector_cache_default(char *buf, size_t size);
/* The longest window the detector keeps state for (the longest correlation
 * timespan, or the suppression window): 0 when it keeps none. A centre
 * restarting rebuilds its windows from the events of that long ago. */
int64_t	detector_window_ns(const struct detector *d);
/* How many rules (plain, correlation) are in use. */
void	detector_counts(const struct detector *d, size_t *ret_rules, size_t *ret_correlations);

struct detector_stats {
	size_t		hs_patterns;		/* values compiled into Hyperscan */
	size_t		pcre_patterns;		/* |re values Hyperscan refused, run by PCRE2 */
	uint64_t	pcre_limit_hits;	/* PCRE2 matches cut short by a limit (no match) */
	size_t		suppression_groups, correlation_groups;	/* windows held now */
	size_t		hs_databases, hs_databases_cached;	/* compiled, loaded from the cache */
	bool		line_filter;		/* detector_filter_block can be used */
	size_t		line_filter_literals;
};
void	detector_stats(const struct detector *d, struct detector_stats *ret);
/* Notes from building, one per line "path: id: ...": which rules' |re
 * patterns run on PCRE2 and why Hyperscan refused them ("" when none). */
const char *detector_report(const struct detector *d);

#endif
