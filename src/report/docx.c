/*
 * docx.c - a struct doc as an Office Open XML word-processing document
 * (.docx): the few XML parts Word, WPS and LibreOffice need, in a ZIP
 * container written here (deflate and CRC-32 from zlib; this is the only
 * file that includes zlib.h). No ZIP64: a part or the whole past 4 GiB is
 * refused (-E2BIG), long before which the XML cap stops it anyway.
 *
 * Text is in 宋体 (SimSun) for Chinese and Times New Roman for Latin, titles
 * and headings in 黑体 (SimHei): the fonts a Chinese government desktop has;
 * elsewhere the viewer substitutes (LibreOffice on Debian picks Noto CJK).
 */
#include "report/report.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "core/buf.h"
#include "core/i18n.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "report/report_int.h"
#include "core/banned.h"

#define DOCX_XML_MAX	(256u << 20)	/* one XML part */
#define DOCX_MAX_PARTS	16
#define PAGE_W		11906		/* A4 in twips */
#define PAGE_H		16838
#define MARGIN_LR	1247		/* 2.2 cm */
#define MARGIN_TB	1440		/* 2.54 cm */
#define TEXT_W		(PAGE_W - 2 * MARGIN_LR)
/* One terminal column of 9.5 pt table text, with room for a wider
 * substitute font (LibreOffice draws Times New Roman as DejaVu Serif). */
#define TWIPS_PER_COL	115
#define CELL_MARGIN	80

static void
set_err(char *err, size_t errlen, const char *msg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", msg);
}

/* --- ZIP ---------------------------------------------------------------------------- */

struct zip_entry {
	const char	*name;		/* a static string */
	uint32_t	 crc, csize, usize, offset;
};

struct zip {
	struct buf	*out;
	size_t		 base;		/* where the archive starts in out */
	struct zip_entry entries[DOCX_MAX_PARTS];
	size_t		 n;
	uint16_t	 dos_time, dos_date;
};

static void
put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void
zip_init(struct zip *z, struct buf *out)
{
	time_t now = time(NULL);
	struct tm tm;

	memset(z, 0, sizeof(*z));
	z->out = out;
	z->base = out->len;
	z->dos_date = 1 << 5 | 1;	/* 1980-01-01 if the clock is odd */
	if (localtime_r(&now, &tm) != NULL && tm.tm_year >= 80 && tm.tm_year < 80 + 127) {
		z->dos_time = (uint16_t)(tm.tm_hour << 11 | tm.tm_min << 5 | tm.tm_sec / 2);
		z->dos_date = (uint16_t)((tm.tm_year - 80) << 9 | (tm.tm_mon + 1) << 5 | tm.tm_mday);
	}
}

/* Where the archive is now, or -E2BIG past what 32-bit ZIP fields hold. */
static int
zip_offset(const struct zip *z, uint32_t *ret)
{
	size_t off = z->out->len - z->base;

	if (off > UINT32_MAX)
		return -E2BIG;
	*ret = (uint32_t)off;
	return 0;
}

/* Append one stored-as-deflate file. */
static int
zip_add(struct zip *z, const char *name, const char *data, size_t len)
{
	struct zip_entry *e;
	unsigned char h[30], chunk[16384];
	size_t namelen = strlen(name), hdr_at, csize = 0;
	z_stream zs;
	bool zs_open = false;
	int r, zr;

	if (z->n >= DOCX_MAX_PARTS)
		return -E2BIG;
	if (len > UINT32_MAX)
		return -E2BIG;
	e = &z->entries[z->n];
	memset(e, 0, sizeof(*e));
	e->name = name;
	e->usize = (uint32_t)len;
	e->crc = (uint32_t)crc32_z(crc32_z(0, Z_NULL, 0), (const Bytef *)data, len);
	r = zip_offset(z, &e->offset);
	if (r < 0)
		return r;

	put32(h, 0x04034b50);
	put16(h + 4, 20);		/* version needed: 2.0 (deflate) */
	put16(h + 6, 0);		/* flags */
	put16(h + 8, 8);		/* deflate */
	put16(h + 10, z->dos_time);
	put16(h + 12, z->dos_date);
	put32(h + 14, e->crc);
	put32(h + 18, 0);		/* compressed size: patched below */
	put32(h + 22, e->usize);
	put16(h + 26, (uint16_t)namelen);
	put16(h + 28, 0);
	hdr_at = z->out->len;
	if ((r = buf_append(z->out, h, sizeof(h))) < 0 ||
	    (r = buf_append(z->out, name, namelen)) < 0)
		return r;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8,
			Z_DEFAULT_STRATEGY) != Z_OK) {
		r = -EIO;
		goto out;
	}
	zs_open = true;
	zs.next_in = (Bytef *)(uintptr_t)data;	/* zlib does not write through it */
	zs.avail_in = (uInt)len;
	do {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		zr = deflate(&zs, Z_FINISH);
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
			r = -EIO;
			goto out;
		}
		r = buf_append(z->out, chunk, sizeof(chunk) - zs.avail_out);
		if (r < 0)
			goto out;
		csize += sizeof(chunk) - zs.avail_out;
	} while (zr != Z_STREAM_END);
	if (csize > UINT32_MAX) {
		r = -E2BIG;
		goto out;
	}
	e->csize = (uint32_t)csize;
	put32((unsigned char *)z->out->data + hdr_at + 18, e->csize);
	z->n++;
	r = 0;
out:
	if (zs_open)
		deflateEnd(&zs);
	return r;
}

/* The central directory and the end record. */
static int
zip_finish(struct zip *z)
{
	unsigned char h[46], end[22];
	uint32_t cd_start, cd_end;
	int r;

	r = zip_offset(z, &cd_start);
	if (r < 0)
		return r;
	for (size_t i = 0; i < z->n; i++) {
		const struct zip_entry *e = &z->entries[i];
		size_t namelen = strlen(e->name);

		put32(h, 0x02014b50);
		put16(h + 4, 3 << 8 | 20);	/* made by: Unix, 2.0 */
		put16(h + 6, 20);
		put16(h + 8, 0);
		put16(h + 10, 8);
		put16(h + 12, z->dos_time);
		put16(h + 14, z->dos_date);
		put32(h + 16, e->crc);
		put32(h + 20, e->csize);
		put32(h + 24, e->usize);
		put16(h + 28, (uint16_t)namelen);
		put16(h + 30, 0);		/* extra */
		put16(h + 32, 0);		/* comment */
		put16(h + 34, 0);		/* disk */
		put16(h + 36, 0);		/* internal attributes */
		put32(h + 38, 0100644u << 16);	/* external: a regular file, rw-r--r-- */
		put32(h + 42, e->offset);
		if ((r = buf_append(z->out, h, sizeof(h))) < 0 ||
		    (r = buf_append(z->out, e->name, namelen)) < 0)
			return r;
	}
	r = zip_offset(z, &cd_end);
	if (r < 0)
		return r;
	put32(end, 0x06054b50);
	put16(end + 4, 0);
	put16(end + 6, 0);
	put16(end + 8, (uint16_t)z->n);
	put16(end + 10, (uint16_t)z->n);
	put32(end + 12, cd_end - cd_start);
	put32(end + 16, cd_start);
	put16(end + 20, 0);
	r = buf_append(z->out, end, sizeof(end));
	if (r == 0 && z->out->len - z->base > UINT32_MAX)
		r = -E2BIG;
	return r;
}

/* --- XML ---------------------------------------------------------------------------- */

/* s[0..len) as XML character data: & < > " escaped, bytes that are not
 * UTF-8 as U+FFFD, characters XML 1.0 does not allow dropped. Tabs and
 * newlines are kept (callers that mean a Word tab or break split first). */
static int
xml_text(struct buf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;
	int r;

	while (i < len) {
		size_t n = utf8_char_len(p + i, len - i);
		const char *repl = NULL;
		size_t skip = n;

		if (n == 0) {
			repl = "\xef\xbf\xbd";
			skip = 1;
		} else if (n == 1) {
			switch (p[i]) {
			case '&': repl = "&amp;"; break;
			case '<': repl = "&lt;"; break;
			case '>': repl = "&gt;"; break;
			case '"': repl = "&quot;"; break;
			case '\t': case '\n': break;
			default:
				if (p[i] < 0x20)
					repl = "";
				break;
			}
		} else if (n == 3 && p[i] == 0xef && p[i + 1] == 0xbf &&
			   (p[i + 2] == 0xbe || p[i + 2] == 0xbf)) {
			repl = "";
		}
		if (repl == NULL) {
			i += skip;
			continue;
		}
		if ((r = buf_append(b, s + run, i - run)) < 0 || (r = buf_puts(b, repl)) < 0)
			return r;
		i += skip;
		run = i;
	}
	return buf_append(b, s + run, i - run);
}

static int
xml_str(struct buf *b, const char *s)
{
	return s != NULL ? xml_text(b, s, strlen(s)) : 0;
}

/* One run: text with '\n' as <w:br/> and '\t' as <w:tab/>. */
static int
xml_run(struct buf *b, const char *rpr, const char *s)
{
	const char *p = s != NULL ? s : "";
	int r;

	r = buf_puts(b, "<w:r>");
	if (r == 0 && rpr != NULL)
		r = buf_appendf(b, "<w:rPr>%s</w:rPr>", rpr);
	while (r == 0) {
		size_t seg = strcspn(p, "\n\t");

		if (seg > 0) {
			r = buf_puts(b, "<w:t xml:space=\"preserve\">");
			if (r == 0)
				r = xml_text(b, p, seg);
			if (r == 0)
				r = buf_puts(b, "</w:t>");
		}
		if (r < 0 || p[seg] == '\0')
			break;
		r = buf_puts(b, p[seg] == '\n' ? "<w:br/>" : "<w:tab/>");
		p += seg + 1;
	}
	if (r == 0)
		r = buf_puts(b, "</w:r>");
	return r;
}

static int
xml_para(struct buf *b, const char *style, const char *rpr, const char *text)
{
	int r;

	r = buf_puts(b, "<w:p>");
	if (r == 0 && style != NULL)
		r = buf_appendf(b, "<w:pPr><w:pStyle w:val=\"%s\"/></w:pPr>", style);
	if (r == 0)
		r = xml_run(b, rpr, text);
	if (r == 0)
		r = buf_puts(b, "</w:p>");
	return r;
}

/* The widest line of s in terminal columns (CJK counts 2). */
static size_t
text_columns(const char *s)
{
	size_t best = 0;

	while (s != NULL) {
		const char *nl = strchr(s, '\n');
		size_t n = nl != NULL ? (size_t)(nl - s) : strlen(s);
		size_t w = utf8_valid(s, n) ? utf8_display_width(s, n) : n;

		if (w > best)
			best = w;
		s = nl != NULL ? nl + 1 : NULL;
	}
	return best;
}

static const char table_borders[] =
	"<w:tblBorders>"
	"<w:top w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
	"<w:left w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
	"<w:bottom w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
	"<w:right w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
	"<w:insideH w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
	"<w:insideV w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
	"</w:tblBorders>";

static int
xml_table(struct buf *b, const struct doc_block *t)
{
	double *natural = NULL, *width = NULL;
	int r;

	natural = xcalloc(t->ncols, sizeof(*natural));
	width = xcalloc(t->ncols, sizeof(*width));
	for (size_t row = 0; row < t->nrows; row++)
		for (size_t col = 0; col < t->ncols; col++) {
			double w = (double)text_columns(t->cells[row * t->ncols + col]) *
				TWIPS_PER_COL + 2 * CELL_MARGIN + 40;

			if (w > natural[col])
				natural[col] = w;
		}
	doc_column_widths(natural, t->ncols, TEXT_W, 700, width);

	r = buf_appendf(b, "<w:tbl><w:tblPr><w:tblStyle w:val=\"ReportTable\"/>"
		"<w:tblW w:w=\"%d\" w:type=\"dxa\"/>%s<w:tblLayout w:type=\"fixed\"/>"
		"<w:tblCellMar><w:left w:w=\"%d\" w:type=\"dxa\"/>"
		"<w:right w:w=\"%d\" w:type=\"dxa\"/></w:tblCellMar></w:tblPr><w:tblGrid>",
		TEXT_W, table_borders, CELL_MARGIN, CELL_MARGIN);
	for (size_t col = 0; r == 0 && col < t->ncols; col++)
		r = buf_appendf(b, "<w:gridCol w:w=\"%d\"/>", (int)width[col]);
	if (r == 0)
		r = buf_puts(b, "</w:tblGrid>");
	for (size_t row = 0; r == 0 && row < t->nrows; row++) {
		bool head = t->header && row == 0;

		r = buf_puts(b, head ? "<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>"
				     : "<w:tr>");
		for (size_t col = 0; r == 0 && col < t->ncols; col++) {
			/* the header row, and the labels of a key/value table, are shaded */
			bool label = head || (!t->header && t->ncols == 2 && col == 0);

			r = buf_appendf(b, "<w:tc><w:tcPr><w:tcW w:w=\"%d\" w:type=\"dxa\"/>%s</w:tcPr>",
				(int)width[col],
				label ? "<w:shd w:val=\"clear\" w:color=\"auto\" w:fill=\"E7E6E6\"/>"
				      : "");
			if (r == 0)
				r = xml_para(b, "TableText", label ? "<w:b/>" : NULL,
					t->cells[row * t->ncols + col]);
			if (r == 0)
				r = buf_puts(b, "</w:tc>");
		}
		if (r == 0)
			r = buf_puts(b, "</w:tr>");
	}
	if (r == 0)
		r = buf_puts(b, "</w:tbl>");
	free(natural);
	free(width);
	return r;
}

static int
document_xml(const struct doc *d, struct buf *b)
{
	bool after_table = false;
	int r;

	r = buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
		"<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" "
		"xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">"
		"<w:body>");
	if (r == 0 && d->title != NULL)
		r = xml_para(b, "Title", NULL, d->title);
	if (r == 0 && d->subtitle != NULL)
		r = xml_para(b, "Subtitle", NULL, d->subtitle);
	for (size_t i = 0; r == 0 && i < d->nblocks; i++) {
		const struct doc_block *blk = &d->blocks[i];

		switch (blk->kind) {
		case DOC_HEADING:
			r = xml_para(b, blk->level <= 1 ? "Heading1" : "Heading2", NULL, blk->text);
			break;
		case DOC_PARAGRAPH:
			r = xml_para(b, NULL, NULL, blk->text);
			break;
		case DOC_WARNING:
			r = xml_para(b, "Warning", "<w:b/><w:color w:val=\"C00000\"/>", blk->text);
			break;
		case DOC_TABLE:
			if (blk->cells == NULL || blk->ncols == 0 || blk->nrows == 0)
				break;
			/* two tables in a row would merge into one */
			if (after_table)
				r = buf_puts(b, "<w:p/>");
			if (r == 0)
				r = xml_table(b, blk);
			break;
		}
		after_table = blk->kind == DOC_TABLE;
	}
	if (r == 0)
		r = buf_appendf(b, "<w:p/><w:sectPr><w:footerReference w:type=\"default\" r:id=\"rId4\"/>"
			"<w:pgSz w:w=\"%d\" w:h=\"%d\"/><w:pgMar w:top=\"%d\" w:right=\"%d\" "
			"w:bottom=\"%d\" w:left=\"%d\" w:header=\"851\" w:footer=\"851\" w:gutter=\"0\"/>"
			"</w:sectPr></w:body></w:document>",
			PAGE_W, PAGE_H, MARGIN_TB, MARGIN_LR, MARGIN_TB, MARGIN_LR);
	return r;
}

static int
footer_xml(const struct doc *d, struct buf *b)
{
	int r;

	r = buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
		"<w:ftr xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" "
		"xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">"
		"<w:p><w:pPr><w:pStyle w:val=\"Footer\"/></w:pPr>");
	if (r == 0 && d->footer != NULL) {
		r = buf_puts(b, "<w:r><w:t xml:space=\"preserve\">");
		if (r == 0)
			r = xml_str(b, d->footer);
		if (r == 0)
			r = buf_puts(b, "　　</w:t></w:r>");
	}
	if (r == 0)
		r = buf_appendf(b, "<w:r><w:t xml:space=\"preserve\">%s</w:t></w:r>"
			"<w:fldSimple w:instr=\" PAGE \"><w:r><w:t>1</w:t></w:r></w:fldSimple>"
			"<w:r><w:t xml:space=\"preserve\">%s</w:t></w:r>"
			"<w:fldSimple w:instr=\" NUMPAGES \"><w:r><w:t>1</w:t></w:r></w:fldSimple>"
			"<w:r><w:t xml:space=\"preserve\">%s</w:t></w:r></w:p></w:ftr>",
			L("第 ", "Page "), L(" 页 / 共 ", " of "), L(" 页", ""));
	return r;
}

static const char styles_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<w:styles xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">"
	"<w:docDefaults><w:rPrDefault><w:rPr>"
	"<w:rFonts w:ascii=\"Times New Roman\" w:hAnsi=\"Times New Roman\" w:eastAsia=\"宋体\" "
	"w:cs=\"Times New Roman\"/>"
	"<w:sz w:val=\"21\"/><w:szCs w:val=\"21\"/>"
	"<w:lang w:val=\"en-US\" w:eastAsia=\"zh-CN\" w:bidi=\"ar-SA\"/>"
	"</w:rPr></w:rPrDefault>"
	"<w:pPrDefault><w:pPr><w:spacing w:after=\"120\" w:line=\"300\" w:lineRule=\"auto\"/>"
	"</w:pPr></w:pPrDefault></w:docDefaults>"

	"<w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\">"
	"<w:name w:val=\"Normal\"/><w:qFormat/></w:style>"

	"<w:style w:type=\"paragraph\" w:styleId=\"Title\"><w:name w:val=\"Title\"/>"
	"<w:basedOn w:val=\"Normal\"/><w:next w:val=\"Normal\"/><w:qFormat/>"
	"<w:pPr><w:spacing w:before=\"240\" w:after=\"120\"/><w:jc w:val=\"center\"/></w:pPr>"
	"<w:rPr><w:rFonts w:ascii=\"Arial\" w:hAnsi=\"Arial\" w:eastAsia=\"黑体\"/><w:b/><w:bCs/>"
	"<w:sz w:val=\"36\"/><w:szCs w:val=\"36\"/></w:rPr></w:style>"

	"<w:style w:type=\"paragraph\" w:styleId=\"Subtitle\"><w:name w:val=\"Subtitle\"/>"
	"<w:basedOn w:val=\"Normal\"/><w:next w:val=\"Normal\"/><w:qFormat/>"
	"<w:pPr><w:pBdr><w:bottom w:val=\"single\" w:sz=\"12\" w:space=\"4\" w:color=\"C00000\"/>"
	"</w:pBdr><w:spacing w:after=\"240\"/><w:jc w:val=\"center\"/></w:pPr>"
	"<w:rPr><w:color w:val=\"404040\"/><w:sz w:val=\"22\"/><w:szCs w:val=\"22\"/></w:rPr>"
	"</w:style>"

	"<w:style w:type=\"paragraph\" w:styleId=\"Heading1\"><w:name w:val=\"heading 1\"/>"
	"<w:basedOn w:val=\"Normal\"/><w:next w:val=\"Normal\"/><w:uiPriority w:val=\"9\"/>"
	"<w:qFormat/><w:pPr><w:keepNext/><w:keepLines/><w:spacing w:before=\"240\" w:after=\"120\"/>"
	"<w:outlineLvl w:val=\"0\"/></w:pPr>"
	"<w:rPr><w:rFonts w:ascii=\"Arial\" w:hAnsi=\"Arial\" w:eastAsia=\"黑体\"/><w:b/><w:bCs/>"
	"<w:sz w:val=\"28\"/><w:szCs w:val=\"28\"/></w:rPr></w:style>"

	"<w:style w:type=\"paragraph\" w:styleId=\"Heading2\"><w:name w:val=\"heading 2\"/>"
	"<w:basedOn w:val=\"Normal\"/><w:next w:val=\"Normal\"/><w:uiPriority w:val=\"9\"/>"
	"<w:unhideWhenUsed/><w:qFormat/><w:pPr><w:keepNext/><w:keepLines/>"
	"<w:spacing w:before=\"180\" w:after=\"80\"/><w:outlineLvl w:val=\"1\"/></w:pPr>"
	"<w:rPr><w:rFonts w:ascii=\"Arial\" w:hAnsi=\"Arial\" w:eastAsia=\"黑体\"/><w:b/><w:bCs/>"
	"<w:sz w:val=\"24\"/><w:szCs w:val=\"24\"/></w:rPr></w:style>"

	"<w:style w:type=\"paragraph\" w:customStyle=\"1\" w:styleId=\"Warning\">"
	"<w:name w:val=\"Warning\"/><w:basedOn w:val=\"Normal\"/><w:qFormat/>"
	"<w:pPr><w:pBdr><w:left w:val=\"single\" w:sz=\"24\" w:space=\"4\" w:color=\"C00000\"/>"
	"</w:pBdr><w:shd w:val=\"clear\" w:color=\"auto\" w:fill=\"FBE9E7\"/>"
	"<w:spacing w:before=\"60\" w:after=\"60\"/></w:pPr>"
	"<w:rPr><w:b/><w:bCs/><w:color w:val=\"C00000\"/></w:rPr></w:style>"

	"<w:style w:type=\"paragraph\" w:customStyle=\"1\" w:styleId=\"TableText\">"
	"<w:name w:val=\"Table Text\"/><w:basedOn w:val=\"Normal\"/>"
	"<w:pPr><w:spacing w:before=\"20\" w:after=\"20\" w:line=\"260\" w:lineRule=\"auto\"/></w:pPr>"
	"<w:rPr><w:sz w:val=\"19\"/><w:szCs w:val=\"19\"/></w:rPr></w:style>"

	"<w:style w:type=\"paragraph\" w:styleId=\"Footer\"><w:name w:val=\"footer\"/>"
	"<w:basedOn w:val=\"Normal\"/><w:pPr><w:spacing w:after=\"0\"/><w:jc w:val=\"center\"/>"
	"</w:pPr><w:rPr><w:color w:val=\"606060\"/><w:sz w:val=\"18\"/><w:szCs w:val=\"18\"/></w:rPr>"
	"</w:style>"

	"<w:style w:type=\"table\" w:default=\"1\" w:styleId=\"TableNormal\">"
	"<w:name w:val=\"Normal Table\"/><w:uiPriority w:val=\"99\"/><w:semiHidden/>"
	"<w:tblPr><w:tblInd w:w=\"0\" w:type=\"dxa\"/><w:tblCellMar>"
	"<w:top w:w=\"0\" w:type=\"dxa\"/><w:left w:w=\"108\" w:type=\"dxa\"/>"
	"<w:bottom w:w=\"0\" w:type=\"dxa\"/><w:right w:w=\"108\" w:type=\"dxa\"/>"
	"</w:tblCellMar></w:tblPr></w:style>"

	"<w:style w:type=\"table\" w:customStyle=\"1\" w:styleId=\"ReportTable\">"
	"<w:name w:val=\"Report Table\"/><w:basedOn w:val=\"TableNormal\"/><w:tblPr>"
	"<w:tblBorders>"
	"<w:top w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
	"<w:left w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
	"<w:bottom w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
	"<w:right w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
	"<w:insideH w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
	"<w:insideV w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
	"</w:tblBorders></w:tblPr></w:style>"
	"</w:styles>";

static const char font_table_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<w:fonts xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">"
	"<w:font w:name=\"宋体\"><w:altName w:val=\"SimSun\"/><w:charset w:val=\"86\"/>"
	"<w:family w:val=\"auto\"/><w:pitch w:val=\"variable\"/></w:font>"
	"<w:font w:name=\"黑体\"><w:altName w:val=\"SimHei\"/><w:charset w:val=\"86\"/>"
	"<w:family w:val=\"modern\"/><w:pitch w:val=\"fixed\"/></w:font>"
	"<w:font w:name=\"Times New Roman\"><w:charset w:val=\"00\"/><w:family w:val=\"roman\"/>"
	"<w:pitch w:val=\"variable\"/></w:font>"
	"<w:font w:name=\"Arial\"><w:charset w:val=\"00\"/><w:family w:val=\"swiss\"/>"
	"<w:pitch w:val=\"variable\"/></w:font>"
	"</w:fonts>";

static const char settings_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<w:settings xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">"
	"<w:defaultTabStop w:val=\"420\"/>"
	"<w:characterSpacingControl w:val=\"compressPunctuation\"/>"
	"<w:compat><w:compatSetting w:name=\"compatibilityMode\" "
	"w:uri=\"http://schemas.microsoft.com/office/word\" w:val=\"15\"/></w:compat>"
	"</w:settings>";

static const char content_types_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
	"<Default Extension=\"rels\" "
	"ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
	"<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
	"<Override PartName=\"/word/document.xml\" ContentType=\"application/"
	"vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>"
	"<Override PartName=\"/word/styles.xml\" ContentType=\"application/"
	"vnd.openxmlformats-officedocument.wordprocessingml.styles+xml\"/>"
	"<Override PartName=\"/word/settings.xml\" ContentType=\"application/"
	"vnd.openxmlformats-officedocument.wordprocessingml.settings+xml\"/>"
	"<Override PartName=\"/word/fontTable.xml\" ContentType=\"application/"
	"vnd.openxmlformats-officedocument.wordprocessingml.fontTable+xml\"/>"
	"<Override PartName=\"/word/footer1.xml\" ContentType=\"application/"
	"vnd.openxmlformats-officedocument.wordprocessingml.footer+xml\"/>"
	"<Override PartName=\"/docProps/core.xml\" "
	"ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/>"
	"<Override PartName=\"/docProps/app.xml\" ContentType=\"application/"
	"vnd.openxmlformats-officedocument.extended-properties+xml\"/>"
	"</Types>";

static const char package_rels_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
	"<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
	"relationships/officeDocument\" Target=\"word/document.xml\"/>"
	"<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/package/2006/"
	"relationships/metadata/core-properties\" Target=\"docProps/core.xml\"/>"
	"<Relationship Id=\"rId3\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
	"relationships/extended-properties\" Target=\"docProps/app.xml\"/>"
	"</Relationships>";

static const char document_rels_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
	"<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
	"relationships/styles\" Target=\"styles.xml\"/>"
	"<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
	"relationships/settings\" Target=\"settings.xml\"/>"
	"<Relationship Id=\"rId3\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
	"relationships/fontTable\" Target=\"fontTable.xml\"/>"
	"<Relationship Id=\"rId4\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
	"relationships/footer\" Target=\"footer1.xml\"/>"
	"</Relationships>";

static const char app_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/"
	"extended-properties\" xmlns:vt=\"http://schemas.openxmlformats.org/officeDocument/2006/"
	"docPropsVTypes\"><Application>Yingji</Application><DocSecurity>0</DocSecurity>"
	"</Properties>";

static int
core_xml(const struct doc *d, struct buf *b)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	int r;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(when, sizeof(when), "1980-01-01T00:00:00Z");
	r = buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
		"<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/"
		"metadata/core-properties\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" "
		"xmlns:dcterms=\"http://purl.org/dc/terms/\" "
		"xmlns:dcmitype=\"http://purl.org/dc/dcmitype/\" "
		"xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><dc:title>");
	if (r == 0)
		r = xml_str(b, d->title);
	if (r == 0)
		r = buf_puts(b, "</dc:title><dc:subject>");
	if (r == 0)
		r = xml_str(b, d->subtitle);
	if (r == 0)
		r = buf_appendf(b, "</dc:subject><dc:creator>Yingji</dc:creator>"
			"<dcterms:created xsi:type=\"dcterms:W3CDTF\">%s</dcterms:created>"
			"<dcterms:modified xsi:type=\"dcterms:W3CDTF\">%s</dcterms:modified>"
			"</cp:coreProperties>", when, when);
	return r;
}

int
doc_render_docx(const struct doc *d, struct buf *out, char *err, size_t errlen)
{
	struct buf document, footer, core;
	struct zip z;
	size_t start = out->len;
	int r;

	buf_init(&document, DOCX_XML_MAX);
	buf_init(&footer, DOCX_XML_MAX);
	buf_init(&core, DOCX_XML_MAX);
	zip_init(&z, out);
	if ((r = document_xml(d, &document)) < 0 || (r = footer_xml(d, &footer)) < 0 ||
	    (r = core_xml(d, &core)) < 0) {
		set_err(err, errlen, L("报告过大，无法生成 DOCX", "the report is too large for a DOCX"));
		goto out;
	}
	if ((r = zip_add(&z, "[Content_Types].xml", content_types_xml,
			sizeof(content_types_xml) - 1)) < 0 ||
	    (r = zip_add(&z, "_rels/.rels", package_rels_xml, sizeof(package_rels_xml) - 1)) < 0 ||
	    (r = zip_add(&z, "word/document.xml", document.data, document.len)) < 0 ||
	    (r = zip_add(&z, "word/_rels/document.xml.rels", document_rels_xml,
			sizeof(document_rels_xml) - 1)) < 0 ||
	    (r = zip_add(&z, "word/styles.xml", styles_xml, sizeof(styles_xml) - 1)) < 0 ||
	    (r = zip_add(&z, "word/settings.xml", settings_xml, sizeof(settings_xml) - 1)) < 0 ||
	    (r = zip_add(&z, "word/fontTable.xml", font_table_xml, sizeof(font_table_xml) - 1)) < 0 ||
	    (r = zip_add(&z, "word/footer1.xml", footer.data, footer.len)) < 0 ||
	    (r = zip_add(&z, "docProps/core.xml", core.data, core.len)) < 0 ||
	    (r = zip_add(&z, "docProps/app.xml", app_xml, sizeof(app_xml) - 1)) < 0 ||
	    (r = zip_finish(&z)) < 0) {
		set_err(err, errlen, r == -E2BIG ? L("DOCX 文件过大", "the DOCX file is too large")
						 : L("压缩 DOCX 失败", "compressing the DOCX failed"));
		goto out;
	}
	r = 0;
out:
	if (r < 0) {
		out->len = start;	/* nothing half-written stays behind */
		out->data[out->len] = '\0';
	}
	buf_release(&document);
	buf_release(&footer);
	buf_release(&core);
	return r;
}
