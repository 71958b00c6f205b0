/*
 * buf.h - growable byte buffer.
 *
 * After buf_init(), data is never NULL and data[len] == '\0'. A buffer never
 * grows past max: an append that would fails with -E2BIG and changes nothing.
 * max == 0 means "no cap" and is only for buffers that do not grow from input.
 */
#ifndef YINGJI_BUF_H
#define YINGJI_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;
	size_t	 len, cap, max;
};

void	 buf_init(struct buf *b, size_t max);
void	 buf_release(struct buf *b);
void	 buf_reset(struct buf *b);
int	 buf_append(struct buf *b, const void *p, size_t n);
int	 buf_puts(struct buf *b, const char *s);
int	 buf_putc(struct buf *b, char c);
int	 buf_appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int	 buf_vappendf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Hand the bytes to the caller (free() them); the buffer is empty again. */
char	*buf_detach(struct buf *b, size_t *ret_len);

#endif
