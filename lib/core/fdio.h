/*
 * fdio.h - reads and writes that retry EINTR and short writes, so callers
 * don't each write the same loop.
 */
#ifndef YINGJI_FDIO_H
#define YINGJI_FDIO_H

#include <stddef.h>
#include <sys/types.h>

/* read(2) retried on EINTR: bytes read (0 at end), or -errno. */
ssize_t	fd_read(int fd, void *p, size_t n);
/* Write all n bytes, or return -errno. */
int	fd_write_all(int fd, const void *p, size_t n);
/* Read fd to its end into a new NUL-terminated buffer of at most max bytes
 * (-EFBIG beyond). */
int	fd_read_all(int fd, size_t max, char **ret, size_t *ret_len);

#endif
