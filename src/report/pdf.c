/*
 * pdf.c - a struct doc as an A4 PDF, drawn with cairo's PDF surface and laid
 * out with pango in Noto Sans CJK SC (Debian's fonts-noto-cjk, found
 * through fontconfig). The only file that includes cairo and pango headers.
 *
 * Layout is a single column that flows down the page. Text wraps to the
 * width (between words, or between characters for CJK and long tokens).
 * Tables get cell borders, wrapped cells and column widths from what the
 * cells hold; a row that does not fit moves to the next page, where the
 * table's header row is drawn again; a row (or paragraph) taller than a page
 * is cut between text lines. Every page has a footer with the document's
 * footer text and "第 N 页 / 共 M 页"; M is known from a first pass that
 * lays everything out without drawing.
 *
 * No PDF bookmarks: cairo 1.16 (Debian 12) leaks memory on every surface
 * that had cairo_pdf_surface_add_outline() called on it.
 */
#include "report/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>
#include <cairo-pdf.h>
#include <pango/pangocairo.h>

#include "core/buf.h"
#include "core/i18n.h"
#include "core/xalloc.h"
#include "report/report_int.h"
#include "core/banned.h"

#define PDF_MAX_BYTES	(64u << 20)
#define PDF_MAX_PAGES	5000
#define PDF_FONT	"Noto Sans CJK SC"

#define PAGE_W		595.276		/* A4 in points */
#define PAGE_H		841.890
#define MARGIN_L	56.7		/* 2 cm */
#define MARGIN_R	56.7
#define MARGIN_T	62.0
#define MARGIN_B	70.0		/* the footer sits in here */
#define TEXT_W		(PAGE_W - MARGIN_L - MARGIN_R)

#define SIZE_TITLE	18.0
#define SIZE_SUBTITLE	11.0
#define SIZE_H1		14.0
#define SIZE_H2		12.0
#define SIZE_BODY	10.5
#define SIZE_TABLE	9.0
#define SIZE_SMALL	8.0
#define CELL_PAD	4.0
#define MIN_COL		42.0
#define MEASURE_ROWS	2000		/* rows measured for column widths */

struct rgb {
	double	r, g, b;
};

static const struct rgb black = { 0, 0, 0 };
static const struct rgb grey = { 0.38, 0.38, 0.38 };
static const struct rgb red = { 0.75, 0, 0 };
static const struct rgb shade_head = { 0.88, 0.88, 0.88 };
static const struct rgb shade_label = { 0.95, 0.95, 0.95 };
static const struct rgb shade_warn = { 1.0, 0.92, 0.91 };

/* One box of text in a row: a cell, or a whole paragraph. */
struct cell {
	PangoLayout	*layout;
	double		 x, w;		/* the box */
	double		 h;		/* the text's height */
	double		 off;		/* how much of the text is already drawn */
	bool		 shaded;
	struct rgb	 shade;
};

struct row_style {
	double		 pad;
	bool		 borders;
	bool		 bar;		/* a red bar at the left (warnings) */
	struct rgb	 ink;
};

struct table_ctx {
	struct cell	*head;		/* the header row, drawn again on each new page */
	size_t		 ncols;
	struct row_style style;
};

struct pdf {
	cairo_surface_t	*surface;
	cairo_t		*cr;
	PangoFontDescription *fd;
	PangoLayout	*layout;	/* for paragraphs, headings, measuring */
	PangoLayout	*furniture;	/* for the footer and running head, drawn mid-row */
	const struct doc *d;
	bool		 draw;		/* false: the first pass, counting pages */
	int		 page, npages;
	double		 y;
	bool		 fresh;		/* nothing drawn on this page yet */
	double		 top;		/* where rows start here (below a repeated header) */
	struct table_ctx *tbl;
	struct buf	 scratch;
	struct buf	*out;
	size_t		 out_start;
	int		 err;		/* first error: -E2BIG (size or pages), -EIO */
};

static void
set_err(char *err, size_t errlen, const char *msg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", msg);
}

static cairo_status_t
write_out(void *closure, const unsigned char *data, unsigned int length)
{
	struct pdf *p = closure;
	int r;

	if (p->err < 0)
		return CAIRO_STATUS_WRITE_ERROR;
	if (length > PDF_MAX_BYTES - (p->out->len - p->out_start)) {
		p->err = -E2BIG;
		return CAIRO_STATUS_WRITE_ERROR;
	}
	r = buf_append(p->out, data, length);
	if (r < 0) {
		p->err = r;
		return CAIRO_STATUS_WRITE_ERROR;
	}
	return CAIRO_STATUS_SUCCESS;
}

static cairo_status_t
write_nowhere(void *closure, const unsigned char *data, unsigned int length)
{
	return CAIRO_STATUS_SUCCESS;
}

/* Text pango can take: valid UTF-8 without control characters. Valid until
 * the next call. */
static const char *
clean_text(struct pdf *p, const char *s)
{
	buf_reset(&p->scratch);
	if (s == NULL || doc_clean(&p->scratch, s, strlen(s)) < 0)
		return "";
	return p->scratch.data;
}

/* A layout whose text is Chinese whatever the process's locale: pango then
 * picks the simplified-Chinese glyphs and the SC face for Han characters
 * next to Latin text (with another language a single Han character in an
 * English line drew in a different face, and cost ~700 KiB of font). */
static PangoLayout *
new_layout(struct pdf *p)
{
	PangoLayout *l = pango_cairo_create_layout(p->cr);

	pango_context_set_language(pango_layout_get_context(l), pango_language_from_string("zh-cn"));
	pango_layout_context_changed(l);
	return l;
}

static void
layout_set(struct pdf *p, PangoLayout *l, const char *text, double size, bool bold, double width,
	PangoAlignment align)
{
	pango_font_description_set_absolute_size(p->fd, size * PANGO_SCALE);
	pango_font_description_set_weight(p->fd, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
	pango_layout_set_font_description(l, p->fd);
	pango_layout_set_width(l, width > 0 ? pango_units_from_double(width) : -1);
	pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_alignment(l, align);
	pango_layout_set_text(l, clean_text(p, text), -1);
}

static void
layout_extent(PangoLayout *l, double *ret_w, double *ret_h)
{
	int w, h;

	pango_layout_get_size(l, &w, &h);
	if (ret_w != NULL)
		*ret_w = pango_units_to_double(w);
	if (ret_h != NULL)
		*ret_h = pango_units_to_double(h);
}

/* The bottom of the last whole line of l that starts at or below from and
 * ends at or above limit; from when none does. With limit < 0: the bottom
 * of the first line from there, whatever its height. */
static double
cut_at(PangoLayout *l, double from, double limit)
{
	PangoLayoutIter *it = pango_layout_get_iter(l);
	double best = from;

	do {
		int y0, y1;
		double top, bottom;

		pango_layout_iter_get_line_yrange(it, &y0, &y1);
		top = pango_units_to_double(y0);
		bottom = pango_units_to_double(y1);
		if (top + 0.01 < from)
			continue;
		if (limit < 0) {
			best = bottom;
			break;
		}
		if (bottom > limit + 0.01)
			break;
		best = bottom;
	} while (pango_layout_iter_next_line(it));
	pango_layout_iter_free(it);
	return best;
}

/* The bottom of l's last line: where cut_at() ends (the logical height
 * pango_layout_get_size() gives can be a little more). */
static double
layout_bottom(PangoLayout *l)
{
	PangoLayoutIter *it = pango_layout_get_iter(l);
	int y0 = 0, y1 = 0;

	do
		pango_layout_iter_get_line_yrange(it, &y0, &y1);
	while (pango_layout_iter_next_line(it));
	pango_layout_iter_free(it);
	return pango_units_to_double(y1);
}

static void
set_ink(struct pdf *p, struct rgb c)
{
	cairo_set_source_rgb(p->cr, c.r, c.g, c.b);
}

/* --- pages ------------------------------------------------------------------------ */

static void
draw_footer(struct pdf *p)
{
	char num[96];

	if (!p->draw)
		return;
	cairo_set_line_width(p->cr, 0.5);
	set_ink(p, grey);
	cairo_move_to(p->cr, MARGIN_L, PAGE_H - MARGIN_B + 18);
	cairo_line_to(p->cr, PAGE_W - MARGIN_R, PAGE_H - MARGIN_B + 18);
	cairo_stroke(p->cr);
	if (p->d->footer != NULL) {
		layout_set(p, p->furniture, p->d->footer, SIZE_SMALL, false, TEXT_W * 0.7,
			PANGO_ALIGN_LEFT);
		cairo_move_to(p->cr, MARGIN_L, PAGE_H - MARGIN_B + 24);
		pango_cairo_show_layout(p->cr, p->furniture);
	}
	snprintf(num, sizeof(num), L("第 %d 页 / 共 %d 页", "Page %d of %d"), p->page, p->npages);
	layout_set(p, p->furniture, num, SIZE_SMALL, false, TEXT_W * 0.3, PANGO_ALIGN_RIGHT);
	cairo_move_to(p->cr, MARGIN_L + TEXT_W * 0.7, PAGE_H - MARGIN_B + 24);
	pango_cairo_show_layout(p->cr, p->furniture);
}

/* Pages after the first carry the title in small print at the top. */
static void
draw_running_head(struct pdf *p)
{
	double h;

	if (!p->draw || p->d->title == NULL)
		return;
	layout_set(p, p->furniture, p->d->title, SIZE_SMALL, false, TEXT_W, PANGO_ALIGN_LEFT);
	pango_layout_set_ellipsize(p->furniture, PANGO_ELLIPSIZE_END);
	layout_extent(p->furniture, NULL, &h);
	set_ink(p, grey);
	cairo_move_to(p->cr, MARGIN_L, MARGIN_T - 14 - h);
	pango_cairo_show_layout(p->cr, p->furniture);
	pango_layout_set_ellipsize(p->furniture, PANGO_ELLIPSIZE_NONE);
	cairo_set_line_width(p->cr, 0.5);
	cairo_move_to(p->cr, MARGIN_L, MARGIN_T - 10);
	cairo_line_to(p->cr, PAGE_W - MARGIN_R, MARGIN_T - 10);
	cairo_stroke(p->cr);
}

static int flow_row(struct pdf *p, struct cell *cells, size_t n, const struct row_style *st);

static int
new_page(struct pdf *p)
{
	struct table_ctx *tbl = p->tbl;
	int r = 0;

	draw_footer(p);
	if (p->draw)
		cairo_show_page(p->cr);
	if (p->err < 0)
		return p->err;
	if (p->page >= PDF_MAX_PAGES)
		return p->err = -E2BIG;
	p->page++;
	p->y = MARGIN_T;
	p->fresh = true;
	draw_running_head(p);
	if (tbl != NULL && tbl->head != NULL) {
		p->tbl = NULL;		/* the header row itself never repeats */
		for (size_t i = 0; i < tbl->ncols; i++)
			tbl->head[i].off = 0;
		r = flow_row(p, tbl->head, tbl->ncols, &tbl->style);
		p->tbl = tbl;
	}
	p->top = p->y;
	return r;
}

/* Room on a new page, below the repeated table header. */
static double
page_room(const struct pdf *p)
{
	double room = PAGE_H - MARGIN_B - MARGIN_T;

	if (p->tbl != NULL && p->tbl->head != NULL) {
		double hh = 0;

		for (size_t i = 0; i < p->tbl->ncols; i++)
			if (p->tbl->head[i].h > hh)
				hh = p->tbl->head[i].h;
		room -= hh + 2 * p->tbl->style.pad;
	}
	return room;
}

/* Draw a row of cells at p->y, moving to a new page first when it does not
 * fit here but would fit there, and cutting it between lines when it is
 * taller than a page. */
static int
flow_row(struct pdf *p, struct cell *cells, size_t n, const struct row_style *st)
{
	double total = 0, *end = NULL;
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		cells[i].h = layout_bottom(cells[i].layout);
		cells[i].off = 0;
		if (cells[i].h > total)
			total = cells[i].h;
	}
	total += 2 * st->pad;
	if (!p->fresh && p->y + total > PAGE_H - MARGIN_B &&
	    (total <= page_room(p) || PAGE_H - MARGIN_B - p->y < 4 * SIZE_BODY)) {
		r = new_page(p);
		if (r < 0)
			return r;
	}
	end = xcalloc(n, sizeof(*end));
	for (;;) {
		double avail = PAGE_H - MARGIN_B - p->y - 2 * st->pad, slice = 0;
		bool done = true;

		for (size_t i = 0; i < n; i++) {
			struct cell *c = &cells[i];

			end[i] = c->off;
			if (c->off + 0.01 >= c->h)
				continue;
			end[i] = cut_at(c->layout, c->off, c->off + avail);
			/* a line taller than the page: draw it cut rather than never */
			if (end[i] <= c->off && p->y <= p->top + 0.01)
				end[i] = cut_at(c->layout, c->off, -1);
			if (end[i] - c->off > slice)
				slice = end[i] - c->off;
			if (end[i] + 0.01 < c->h)
				done = false;
		}
		if (slice <= 0 && !done) {
			r = new_page(p);
			if (r < 0)
				goto out;
			continue;
		}
		if (p->draw) {
			double hgt = slice + 2 * st->pad;

			for (size_t i = 0; i < n; i++) {
				struct cell *c = &cells[i];

				if (c->shaded) {
					set_ink(p, c->shade);
					cairo_rectangle(p->cr, c->x, p->y, c->w, hgt);
					cairo_fill(p->cr);
				}
				if (end[i] > c->off) {
					cairo_save(p->cr);
					cairo_rectangle(p->cr, c->x, p->y + st->pad, c->w, end[i] - c->off);
					cairo_clip(p->cr);
					set_ink(p, st->ink);
					cairo_move_to(p->cr, c->x + st->pad + (st->bar ? 4 : 0),
						p->y + st->pad - c->off);
					pango_cairo_show_layout(p->cr, c->layout);
					cairo_restore(p->cr);
				}
				if (st->borders) {
					cairo_set_line_width(p->cr, 0.5);
					set_ink(p, black);
					cairo_rectangle(p->cr, c->x, p->y, c->w, hgt);
					cairo_stroke(p->cr);
				}
				if (st->bar) {
					set_ink(p, red);
					cairo_rectangle(p->cr, c->x, p->y, 3, hgt);
					cairo_fill(p->cr);
				}
			}
		}
		p->y += slice + 2 * st->pad;
		p->fresh = false;
		for (size_t i = 0; i < n; i++)
			cells[i].off = end[i];
		if (done)
			break;
		r = new_page(p);
		if (r < 0)
			goto out;
	}
out:
	free(end);
	return r;
}

/* --- blocks ------------------------------------------------------------------------ */

static int
text_block(struct pdf *p, const char *text, double size, bool bold, struct rgb ink,
	double before, double after)
{
	struct row_style st = { .pad = 0, .ink = ink };
	struct cell c = { .layout = p->layout, .x = MARGIN_L, .w = TEXT_W };
	int r;

	if (!p->fresh)
		p->y += before;
	layout_set(p, p->layout, text, size, bold, TEXT_W, PANGO_ALIGN_LEFT);
	r = flow_row(p, &c, 1, &st);
	p->y += after;
	return r;
}

static int
heading(struct pdf *p, const struct doc_block *b)
{
	double size = b->level <= 1 ? SIZE_H1 : SIZE_H2, h;

	/* keep a heading with what follows it */
	layout_set(p, p->layout, b->text, size, true, TEXT_W, PANGO_ALIGN_LEFT);
	layout_extent(p->layout, NULL, &h);
	if (!p->fresh && p->y + (b->level <= 1 ? 10 : 6) + h + 4 * SIZE_BODY > PAGE_H - MARGIN_B) {
		int r = new_page(p);

		if (r < 0)
			return r;
	}
	return text_block(p, b->text, size, true, black, b->level <= 1 ? 10 : 6, 4);
}

static int
warning(struct pdf *p, const struct doc_block *b)
{
	struct row_style st = { .pad = 5, .bar = true, .ink = red };
	struct cell c = { .layout = p->layout, .x = MARGIN_L, .w = TEXT_W, .shaded = true,
		.shade = shade_warn };
	int r;

	if (!p->fresh)
		p->y += 3;
	layout_set(p, p->layout, b->text, SIZE_BODY, true, TEXT_W - 2 * st.pad - 4,
		PANGO_ALIGN_LEFT);
	r = flow_row(p, &c, 1, &st);
	p->y += 3;
	return r;
}

static int
table(struct pdf *p, const struct doc_block *b)
{
	struct table_ctx tbl = { .ncols = b->ncols,
		.style = { .pad = CELL_PAD, .borders = true, .ink = black } };
	struct cell *body = NULL, *head = NULL;
	double *natural = NULL, *width = NULL, x;
	size_t first = b->header ? 1 : 0, measured;
	bool kv = !b->header && b->ncols == 2;	/* labels in the first column */
	int r = 0;

	if (b->cells == NULL || b->ncols == 0 || b->nrows == 0)
		return 0;
	natural = xcalloc(b->ncols, sizeof(*natural));
	width = xcalloc(b->ncols, sizeof(*width));
	measured = b->nrows < MEASURE_ROWS ? b->nrows : MEASURE_ROWS;
	for (size_t row = 0; row < measured; row++)
		for (size_t col = 0; col < b->ncols; col++) {
			double w;

			layout_set(p, p->layout, b->cells[row * b->ncols + col], SIZE_TABLE,
				(b->header && row == 0) || (kv && col == 0), -1, PANGO_ALIGN_LEFT);
			layout_extent(p->layout, &w, NULL);
			w += 2 * CELL_PAD + 1;
			if (w > natural[col])
				natural[col] = w;
		}
	doc_column_widths(natural, b->ncols, TEXT_W, MIN_COL, width);

	body = xcalloc(b->ncols, sizeof(*body));
	x = MARGIN_L;
	for (size_t col = 0; col < b->ncols; col++) {
		body[col].layout = new_layout(p);
		body[col].x = x;
		body[col].w = width[col];
		body[col].shaded = kv && col == 0;
		body[col].shade = shade_label;
		x += width[col];
	}
	if (!p->fresh)
		p->y += 2;
	if (b->header) {
		head = xcalloc(b->ncols, sizeof(*head));
		for (size_t col = 0; col < b->ncols; col++) {
			head[col] = body[col];
			head[col].layout = new_layout(p);
			head[col].shaded = true;
			head[col].shade = shade_head;
			layout_set(p, head[col].layout, b->cells[col], SIZE_TABLE, true,
				width[col] - 2 * CELL_PAD, PANGO_ALIGN_LEFT);
		}
		r = flow_row(p, head, b->ncols, &tbl.style);
		if (r < 0)
			goto out;
		/* repeat it on later pages unless it is itself large */
		tbl.head = head;
		for (size_t col = 0; col < b->ncols; col++)
			if (head[col].h + 2 * CELL_PAD > (PAGE_H - MARGIN_T - MARGIN_B) / 3)
				tbl.head = NULL;
	}
	p->tbl = &tbl;
	for (size_t row = first; row < b->nrows; row++) {
		for (size_t col = 0; col < b->ncols; col++)
			layout_set(p, body[col].layout, b->cells[row * b->ncols + col], SIZE_TABLE,
				kv && col == 0, width[col] - 2 * CELL_PAD, PANGO_ALIGN_LEFT);
		r = flow_row(p, body, b->ncols, &tbl.style);
		if (r < 0)
			goto out;
	}
	p->y += 6;
out:
	p->tbl = NULL;
	for (size_t col = 0; col < b->ncols; col++) {
		if (body != NULL && body[col].layout != NULL)
			g_object_unref(body[col].layout);
		if (head != NULL && head[col].layout != NULL)
			g_object_unref(head[col].layout);
	}
	free(body);
	free(head);
	free(natural);
	free(width);
	return r;
}

static int
title_block(struct pdf *p)
{
	struct row_style st = { .pad = 0, .ink = black };
	struct cell c = { .layout = p->layout, .x = MARGIN_L, .w = TEXT_W };
	int r = 0;

	if (p->d->title != NULL) {
		layout_set(p, p->layout, p->d->title, SIZE_TITLE, true, TEXT_W, PANGO_ALIGN_CENTER);
		r = flow_row(p, &c, 1, &st);
		p->y += 6;
	}
	if (r == 0 && p->d->subtitle != NULL) {
		st.ink = grey;
		layout_set(p, p->layout, p->d->subtitle, SIZE_SUBTITLE, false, TEXT_W,
			PANGO_ALIGN_CENTER);
		r = flow_row(p, &c, 1, &st);
	}
	if (r == 0 && (p->d->title != NULL || p->d->subtitle != NULL)) {
		p->y += 6;
		if (p->draw) {
			set_ink(p, red);
			cairo_set_line_width(p->cr, 1.5);
			cairo_move_to(p->cr, MARGIN_L, p->y);
			cairo_line_to(p->cr, PAGE_W - MARGIN_R, p->y);
			cairo_stroke(p->cr);
		}
		p->y += 10;
	}
	return r;
}

/* Lay out (and with p->draw, draw) the whole document. */
static int
render(struct pdf *p)
{
	int r;

	p->page = 1;
	p->y = p->top = MARGIN_T;
	p->fresh = true;
	r = title_block(p);
	for (size_t i = 0; r == 0 && i < p->d->nblocks; i++) {
		const struct doc_block *b = &p->d->blocks[i];

		switch (b->kind) {
		case DOC_HEADING:
			r = heading(p, b);
			break;
		case DOC_PARAGRAPH:
			r = text_block(p, b->text, SIZE_BODY, false, black, 2, 4);
			break;
		case DOC_WARNING:
			r = warning(p, b);
			break;
		case DOC_TABLE:
			r = table(p, b);
			break;
		}
	}
	if (r == 0)
		draw_footer(p);
	return r < 0 ? r : p->err;
}

static void
pdf_close(struct pdf *p)
{
	if (p->layout != NULL)
		g_object_unref(p->layout);
	if (p->furniture != NULL)
		g_object_unref(p->furniture);
	if (p->cr != NULL)
		cairo_destroy(p->cr);
	if (p->surface != NULL)
		cairo_surface_destroy(p->surface);
	p->layout = p->furniture = NULL;
	p->cr = NULL;
	p->surface = NULL;
}

static int
pdf_open(struct pdf *p, bool draw, char *err, size_t errlen)
{
	p->draw = draw;
	p->surface = cairo_pdf_surface_create_for_stream(draw ? write_out : write_nowhere, p,
		PAGE_W, PAGE_H);
	p->cr = cairo_create(p->surface);
	if (cairo_status(p->cr) != CAIRO_STATUS_SUCCESS) {
		set_err(err, errlen, cairo_status_to_string(cairo_status(p->cr)));
		return -EIO;
	}
	p->layout = new_layout(p);
	p->furniture = new_layout(p);
	if (draw && p->d->title != NULL)
		cairo_pdf_surface_set_metadata(p->surface, CAIRO_PDF_METADATA_TITLE,
			clean_text(p, p->d->title));
	if (draw && p->d->subtitle != NULL)
		cairo_pdf_surface_set_metadata(p->surface, CAIRO_PDF_METADATA_SUBJECT,
			clean_text(p, p->d->subtitle));
	if (draw)
		cairo_pdf_surface_set_metadata(p->surface, CAIRO_PDF_METADATA_CREATOR, "Yingji");
	return 0;
}

/* Is there a font for Chinese? Pango would otherwise draw empty boxes. */
static int
check_font(struct pdf *p, char *err, size_t errlen)
{
	PangoFont *font;
	bool ok;

	pango_font_description_set_absolute_size(p->fd, SIZE_BODY * PANGO_SCALE);
	font = pango_context_load_font(pango_layout_get_context(p->layout), p->fd);
	ok = font != NULL && pango_font_has_char(font, 0x5e94);	/* 应 */
	if (font != NULL)
		g_object_unref(font);
	if (!ok) {
		set_err(err, errlen, L("没有可用的中文字体（请安装 fonts-noto-cjk）",
					"no Chinese font found (install fonts-noto-cjk)"));
		return -EIO;
	}
	return 0;
}

int
doc_render_pdf(const struct doc *d, struct buf *out, char *err, size_t errlen)
{
	struct pdf p = { .d = d, .out = out, .out_start = out->len };
	cairo_status_t st;
	int r;

	buf_init(&p.scratch, DOC_MAX_BYTES);
	p.fd = pango_font_description_from_string(PDF_FONT);

	/* first pass: count the pages */
	r = pdf_open(&p, false, err, errlen);
	if (r == 0)
		r = check_font(&p, err, errlen);
	if (r == 0)
		r = render(&p);
	p.npages = p.page;
	pdf_close(&p);
	if (r < 0)
		goto out;

	r = pdf_open(&p, true, err, errlen);
	if (r == 0)
		r = render(&p);
	if (r == 0 && p.page != p.npages) {
		set_err(err, errlen, "page count changed between passes");
		r = -EIO;
	}
	if (p.surface != NULL) {
		cairo_surface_finish(p.surface);
		st = cairo_surface_status(p.surface);
		if (r == 0 && p.err < 0)
			r = p.err;
		if (r == 0 && st != CAIRO_STATUS_SUCCESS) {
			set_err(err, errlen, cairo_status_to_string(st));
			r = -EIO;
		}
	}
	pdf_close(&p);
out:
	if (r == -E2BIG)
		set_err(err, errlen, L("报告过大，无法生成 PDF", "the report is too large for a PDF"));
	if (r < 0) {
		out->len = p.out_start;	/* nothing half-written stays behind */
		out->data[out->len] = '\0';
	}
	pango_font_description_free(p.fd);
	buf_release(&p.scratch);
	return r;
}
