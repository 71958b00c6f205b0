/*
 * report_int.h - what the files of src/report share and callers do not see.
 *
 * Every string stored in a struct doc by the builders has been through
 * doc_clean(): valid UTF-8, no control characters but '\n' and '\t', nothing
 * XML 1.0 forbids. The renderers still clean what they draw, since a caller
 * may fill a struct doc by hand.
 */
#ifndef YINGJI_REPORT_INT_H
#define YINGJI_REPORT_INT_H

#include <stddef.h>

#include "core/buf.h"
#include "report/report.h"

/* Append s[0..len) to out with bytes that are not UTF-8 replaced by U+FFFD,
 * CR LF and lone CR made LF, and other C0/C1 controls, DEL, U+FFFE and
 * U+FFFF dropped. -E2BIG when out's cap is reached. */
int	doc_clean(struct buf *out, const char *s, size_t len);

/* Set one of d's title, subtitle or footer (field points into d) to a
 * cleaned copy of text, counted against DOC_MAX_BYTES. */
int	doc_set_text(struct doc *d, char **field, const char *text);

/* Share avail among n columns whose natural (unwrapped) widths are given:
 * a column that fits its fair share keeps its natural width, the others
 * split what is left evenly; no column gets less than min (unless avail is
 * smaller than n * min); spare room goes to the last column (the text of a
 * key/value table, the details of a timeline). */
void	doc_column_widths(const double *natural, size_t n, double avail, double min,
		double *ret);

#endif
