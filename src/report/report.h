/*
 * report.h - the official reports of an incident, as PDF and DOCX.
 *
 * Two layers:
 *  1. compose: the incident document (the JSON object GET
 *     /api/v1/incidents/ID returns, described below) into a struct doc: a
 *     title, key/value tables, paragraphs, the timeline table and the late
 *     and accountability flags. Chinese by default, English with
 *     core/i18n.h's language set to English. Every report shows the
 *     incident's timeline and its late (缓报) flags.
 *  2. render: a struct doc into a PDF (pdf.c: cairo + pango, the only
 *     includer of their headers; CJK text in Noto Sans CJK SC from Debian's
 *     fonts-noto-cjk, found through fontconfig) or a DOCX (docx.c: Office
 *     Open XML in a ZIP written here with zlib's deflate; zlib is included
 *     by docx.c only) that Word and WPS open.
 *
 * The incident document (fields the composer reads; unknown ones ignored):
 *   id, title, host, category, subcategory, grade ("特别重大".."一般"),
 *   grade_key ("I".."IV"), colour ("红".."蓝"), response ("Ⅰ级".."Ⅳ级"),
 *   state, state_name, detected_at, report_due, assess_due, authority_due
 *   (null when the statutory clock does not run), summary_due (null too),
 *   closed_at (null while open), late (bool), late_items (array of
 *   "initial_report" | "risk_assessment" | "authority_report" | "summary"),
 *   signals (count), measures {portal_down_s, tamper_visible_s,
 *   records_leaked, direct_loss, hosts_affected} (each may be absent),
 *   plan {name, unit, system, authority},
 *   reports [{id, kind, version, filed_at, by, late, fields {...}}]
 *     kind "initial": fields source, scope, nature, trend, measures
 *     kind "followup" | "supplementary": progress (+ any of the five)
 *     kind "assessment": risk, impact, recommendation
 *     kind "authority": unit, system, discovered_at, type, grade, impact, measures
 *     kind "investigation": cause, losses, recovery_time, cost, lessons
 *     kind "summary": summary
 *   tasks [{id, title, role, assignee, due_at, done_at}]
 *   flags [{id, kind, at, text}]
 *   timeline [{at, by, kind, text}]
 * Times are strings as shown to people ("2026-11-22 17:03:05 +08:00"), or
 * null.
 *
 * Bounds: a document at most DOC_MAX_BLOCKS blocks and DOC_MAX_BYTES of
 * text; compose refuses an incident document past them (-E2BIG).
 */
#ifndef YINGJI_REPORT_REPORT_H
#define YINGJI_REPORT_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

#define DOC_MAX_BLOCKS	20000
#define DOC_MAX_BYTES	(8u << 20)

enum doc_block_kind {
	DOC_HEADING = 1,	/* text; level 1 or 2 */
	DOC_PARAGRAPH,		/* text; may hold newlines */
	DOC_TABLE,		/* rows of ncols cells; row 0 is the header when header=true */
	DOC_WARNING,		/* text shown prominently in red (late / flags) */
};

struct doc_block {
	enum doc_block_kind kind;
	int		 level;
	char		*text;
	char	       **cells;		/* table: nrows * ncols, row-major */
	size_t		 nrows, ncols;
	bool		 header;
};

struct doc {
	char		*title;		/* e.g. 网络安全事件初次报告 */
	char		*subtitle;	/* e.g. the organisation and the incident number */
	char		*footer;	/* e.g. "由应急系统生成 2026-11-22 17:03 +08:00" */
	struct doc_block *blocks;
	size_t		 nblocks, cap;
	size_t		 bytes;
};

enum report_kind {
	REPORT_INITIAL = 1,	/* 初次报告: the five fields */
	REPORT_FOLLOWUP,	/* 续报 */
	REPORT_SUPPLEMENTARY,	/* 补报 */
	REPORT_ASSESSMENT,	/* 风险评估报告 */
	REPORT_AUTHORITY,	/* 向主管部门的报告 (unit and system, discovery time, type, grade, impact, measures) */
	REPORT_INVESTIGATION,	/* 调查评估报告 (cause, losses, recovery time and cost, lessons, full timeline) */
	REPORT_SUMMARY,		/* 30日总结报告 */
	REPORT_INCIDENT,	/* the whole file: every report filed, tasks, flags, timeline */
};
/* "initial", "followup", "supplementary", "assessment", "authority",
 * "investigation", "summary", "incident". */
const char *report_kind_name(enum report_kind k);
int	report_kind_parse(const char *name, enum report_kind *ret);	/* -EINVAL */
/* The report's title for people (i18n). */
const char *report_kind_title(enum report_kind k);

void	doc_init(struct doc *d);
void	doc_release(struct doc *d);
/* Builders; strings are copied; -E2BIG past the bounds. */
int	doc_heading(struct doc *d, int level, const char *text);
int	doc_paragraph(struct doc *d, const char *text);
int	doc_warning(struct doc *d, const char *text);
int	doc_table(struct doc *d, size_t ncols, bool header, const char *const *cells, size_t ncells);

/* Build the report of kind from the incident document json[0..len). For a
 * kind with several filings (follow-ups), every filing of that kind is
 * shown, newest last; a kind never filed gives a report whose fields say
 * 未填报 (not filed). -EINVAL when json is not an incident document. */
int	report_compose(const char *json, size_t len, enum report_kind kind, struct doc *ret);

/* Render into out (bytes of the file). -EIO with a message in err when the
 * library fails (e.g. no CJK font). */
int	doc_render_pdf(const struct doc *d, struct buf *out, char *err, size_t errlen);
int	doc_render_docx(const struct doc *d, struct buf *out, char *err, size_t errlen);

#endif
