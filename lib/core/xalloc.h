/*
 * xalloc.h - allocation that aborts on failure. Out of memory is not an error
 * Yingji can handle usefully, so callers never check.
 */
#ifndef YINGJI_XALLOC_H
#define YINGJI_XALLOC_H

#include <stddef.h>

void	*xmalloc(size_t n);
void	*xcalloc(size_t nmemb, size_t size);
void	*xrealloc(void *p, size_t n);
/* Grow an array to hold at least need elements of size sz; *cap is updated. */
void	*xgrow(void *p, size_t *cap, size_t need, size_t sz);
char	*xstrdup(const char *s);
char	*xstrndup(const char *s, size_t n);
/* printf into a new string. */
char	*xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
