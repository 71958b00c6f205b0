/*
 * doc.c - the report document model: a title and a list of blocks (headings,
 * paragraphs, tables, warnings) that the PDF and DOCX renderers lay out.
 * Builders copy and clean every string and keep the document within
 * DOC_MAX_BLOCKS blocks and DOC_MAX_BYTES bytes of text.
 */
#include "report/report.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/i18n.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "report/report_int.h"
#include "core/banned.h"

static const struct {
	enum report_kind kind;
	const char	*name;
	const char	*zh, *en;
} kinds[] = {
	{ REPORT_INITIAL, "initial", "网络安全事件初次报告", "Initial incident report" },
	{ REPORT_FOLLOWUP, "followup", "网络安全事件续报", "Follow-up incident report" },
	{ REPORT_SUPPLEMENTARY, "supplementary", "网络安全事件补报",
		"Supplementary incident report" },
	{ REPORT_ASSESSMENT, "assessment", "网络安全事件风险评估报告", "Risk assessment report" },
	{ REPORT_AUTHORITY, "authority", "网络安全事件报告（报主管部门）",
		"Incident report to the competent authority" },
	{ REPORT_INVESTIGATION, "investigation", "网络安全事件调查评估报告",
		"Incident investigation and assessment report" },
	{ REPORT_SUMMARY, "summary", "网络安全事件总结报告", "Incident summary report (30 days)" },
	{ REPORT_INCIDENT, "incident", "网络安全事件档案", "Incident file" },
};

const char *
report_kind_name(enum report_kind k)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].kind == k)
			return kinds[i].name;
	return "?";
}

int
report_kind_parse(const char *name, enum report_kind *ret)
{
	if (name == NULL)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].name, name) == 0) {
			*ret = kinds[i].kind;
			return 0;
		}
	return -EINVAL;
}

const char *
report_kind_title(enum report_kind k)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].kind == k)
			return L(kinds[i].zh, kinds[i].en);
	return "?";
}

/* --- text cleaning ------------------------------------------------------------ */

int
doc_clean(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;
	int r;

	/* Copy runs of good bytes in one append; stop a run at anything to change. */
	while (i < len) {
		size_t n = utf8_char_len(p + i, len - i);
		const char *repl = NULL;
		size_t skip = n;

		if (n == 0) {
			repl = "\xef\xbf\xbd";
			skip = 1;
		} else if (n == 1 && (p[i] < 0x20 || p[i] == 0x7f) && p[i] != '\n' &&
			   p[i] != '\t') {
			if (p[i] == '\r')
				repl = i + 1 < len && p[i + 1] == '\n' ? "" : "\n";
			else
				repl = "";
		} else if (n == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0) {
			repl = "";		/* C1 controls */
		} else if (n == 3 && p[i] == 0xef && p[i + 1] == 0xbf &&
			   (p[i + 2] == 0xbe || p[i + 2] == 0xbf)) {
			repl = "";		/* U+FFFE, U+FFFF: not XML characters */
		}
		if (repl == NULL) {
			i += skip;
			continue;
		}
		r = buf_append(out, s + run, i - run);
		if (r < 0)
			return r;
		r = buf_puts(out, repl);
		if (r < 0)
			return r;
		i += skip;
		run = i;
	}
	return buf_append(out, s + run, i - run);
}

/* A cleaned copy of text (NULL: ""), charged to d's byte budget (with one
 * byte for the terminator, so empty table cells count too). */
static int
clean_copy(struct doc *d, const char *text, char **ret)
{
	struct buf b;
	int r;

	buf_init(&b, DOC_MAX_BYTES);
	if (text != NULL) {
		r = doc_clean(&b, text, strlen(text));
		if (r < 0)
			goto out;
	}
	if (b.len + 1 > DOC_MAX_BYTES - d->bytes) {
		r = -E2BIG;
		goto out;
	}
	d->bytes += b.len + 1;
	if (b.cap == 0)
		*ret = xstrdup("");
	else
		*ret = buf_detach(&b, NULL);
	r = 0;
out:
	buf_release(&b);
	return r;
}

int
doc_set_text(struct doc *d, char **field, const char *text)
{
	char *s = NULL;
	int r;

	r = clean_copy(d, text, &s);
	if (r < 0)
		return r;
	free(*field);
	*field = s;
	return 0;
}

/* --- the document ------------------------------------------------------------- */

void
doc_init(struct doc *d)
{
	memset(d, 0, sizeof(*d));
}

static void
block_release(struct doc_block *b)
{
	free(b->text);
	if (b->cells != NULL && b->nrows * b->ncols > 0)
		free(b->cells[0]);	/* every cell lives in cells[0]'s allocation */
	free(b->cells);
}

void
doc_release(struct doc *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->nblocks; i++)
		block_release(&d->blocks[i]);
	free(d->blocks);
	free(d->title);
	free(d->subtitle);
	free(d->footer);
	doc_init(d);
}

/* A new zeroed block at the end, or NULL when the document is full. */
static struct doc_block *
new_block(struct doc *d, enum doc_block_kind kind)
{
	struct doc_block *b;

	if (d->nblocks >= DOC_MAX_BLOCKS)
		return NULL;
	d->blocks = xgrow(d->blocks, &d->cap, d->nblocks + 1, sizeof(*d->blocks));
	b = &d->blocks[d->nblocks];
	memset(b, 0, sizeof(*b));
	b->kind = kind;
	return b;
}

static int
text_block(struct doc *d, enum doc_block_kind kind, int level, const char *text)
{
	struct doc_block *b;
	char *s = NULL;
	int r;

	if (d->nblocks >= DOC_MAX_BLOCKS)
		return -E2BIG;
	r = clean_copy(d, text, &s);
	if (r < 0)
		return r;
	b = new_block(d, kind);
	b->level = level;
	b->text = s;
	d->nblocks++;
	return 0;
}

int
doc_heading(struct doc *d, int level, const char *text)
{
	if (level != 1 && level != 2)
		return -EINVAL;
	return text_block(d, DOC_HEADING, level, text);
}

int
doc_paragraph(struct doc *d, const char *text)
{
	return text_block(d, DOC_PARAGRAPH, 0, text);
}

int
doc_warning(struct doc *d, const char *text)
{
	return text_block(d, DOC_WARNING, 0, text);
}

/* A table's cells are packed in one allocation that cells[0] points to. */
int
doc_table(struct doc *d, size_t ncols, bool header, const char *const *cells, size_t ncells)
{
	struct doc_block *b;
	struct buf packed;
	size_t *off = NULL;
	char **v;
	int r;

	if (ncols == 0 || ncells == 0 || ncells % ncols != 0 || cells == NULL)
		return -EINVAL;
	if (d->nblocks >= DOC_MAX_BLOCKS || ncells > DOC_MAX_BYTES - d->bytes)
		return -E2BIG;
	buf_init(&packed, DOC_MAX_BYTES - d->bytes);
	off = xcalloc(ncells, sizeof(*off));
	for (size_t i = 0; i < ncells; i++) {
		off[i] = packed.len;
		if (cells[i] != NULL) {
			r = doc_clean(&packed, cells[i], strlen(cells[i]));
			if (r < 0)
				goto out;
		}
		r = buf_putc(&packed, '\0');	/* each cell ends in its own NUL */
		if (r < 0)
			goto out;
	}
	d->bytes += packed.len;
	v = xcalloc(ncells, sizeof(*v));
	v[0] = buf_detach(&packed, NULL);
	for (size_t i = 1; i < ncells; i++)
		v[i] = v[0] + off[i];
	b = new_block(d, DOC_TABLE);
	b->cells = v;
	b->ncols = ncols;
	b->nrows = ncells / ncols;
	b->header = header;
	d->nblocks++;
	r = 0;
out:
	free(off);
	buf_release(&packed);
	return r;
}

/* --- layout help -------------------------------------------------------------- */

void
doc_column_widths(const double *natural, size_t n, double avail, double min, double *ret)
{
	bool *fixed = NULL;
	double remaining = avail;
	size_t left = n;
	bool changed = true;

	if (n == 0)
		return;
	if (avail < min * (double)n) {
		for (size_t i = 0; i < n; i++)
			ret[i] = avail / (double)n;
		return;
	}
	fixed = xcalloc(n, sizeof(*fixed));
	/* Water-filling: columns narrower than the fair share keep their width. */
	while (changed && left > 0) {
		double share = remaining / (double)left;

		changed = false;
		for (size_t i = 0; i < n; i++) {
			double w = natural[i] < min ? min : natural[i];

			if (fixed[i] || w > share)
				continue;
			ret[i] = w;
			fixed[i] = true;
			remaining -= w;
			left--;
			changed = true;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!fixed[i])
			ret[i] = remaining / (double)left;
	if (left == 0 && remaining > 0)
		ret[n - 1] += remaining;
	free(fixed);
}
