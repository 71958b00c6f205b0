/*
 * fuzz_report.c - libFuzzer target: any bytes as an incident document into
 * every kind of report (report_compose) and the result into a DOCX
 * (doc_render_docx). Must never crash, hang, leak or read past the input; a
 * document composed is within its bounds and whole; a DOCX rendered is a
 * ZIP. The PDF renderer is left out: pango is too slow for fuzzing speed.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/utf8.h"
#include "report/report.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_text(const char *s)
{
	/* the builders leave valid UTF-8 without control characters */
	if (s == NULL || !utf8_valid(s, strlen(s)))
		__builtin_trap();
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
			__builtin_trap();
}

static void
check_doc(const struct doc *d)
{
	check_text(d->title);
	check_text(d->subtitle);
	check_text(d->footer);
	if (d->nblocks == 0 || d->nblocks > DOC_MAX_BLOCKS || d->bytes > DOC_MAX_BYTES)
		__builtin_trap();
	for (size_t i = 0; i < d->nblocks; i++) {
		const struct doc_block *b = &d->blocks[i];

		switch (b->kind) {
		case DOC_HEADING:
			if (b->level != 1 && b->level != 2)
				__builtin_trap();
			check_text(b->text);
			break;
		case DOC_PARAGRAPH:
		case DOC_WARNING:
			check_text(b->text);
			break;
		case DOC_TABLE:
			if (b->cells == NULL || b->ncols == 0 || b->nrows == 0)
				__builtin_trap();
			for (size_t c = 0; c < b->nrows * b->ncols; c++)
				check_text(b->cells[c]);
			break;
		default:
			__builtin_trap();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int first = 0;

	for (enum report_kind k = REPORT_INITIAL; k <= REPORT_INCIDENT; k++) {
		struct doc d;
		int r;

		doc_init(&d);
		r = report_compose((const char *)data, size, k, &d);
		if (r != 0 && r != -EINVAL && r != -E2BIG)
			__builtin_trap();
		/* a document is refused as malformed whatever the kind asked for */
		if (k == REPORT_INITIAL)
			first = r;
		else if ((r == -EINVAL) != (first == -EINVAL))
			__builtin_trap();
		if (r == 0) {
			check_doc(&d);
			if (k == REPORT_INCIDENT || k == REPORT_INITIAL) {
				struct buf out;
				char err[128];

				buf_init(&out, 64u << 20);
				if (doc_render_docx(&d, &out, err, sizeof(err)) != 0 || out.len < 22 ||
				    memcmp(out.data, "PK\x03\x04", 4) != 0 ||
				    memcmp(out.data + out.len - 22, "PK\x05\x06", 4) != 0)
					__builtin_trap();
				buf_release(&out);
			}
		}
		doc_release(&d);
	}
	return 0;
}
