/* fdio.c - EINTR-safe whole reads and writes. */
#include "core/fdio.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/xalloc.h"
#include "core/banned.h"

ssize_t
fd_read(int fd, void *p, size_t n)
{
	for (;;) {
		ssize_t got = read(fd, p, n);

		if (got >= 0)
			return got;
		if (errno != EINTR)
			return -errno;
	}
}

int
fd_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int
fd_read_all(int fd, size_t max, char **ret, size_t *ret_len)
{
	size_t len = 0, cap = 4096;
	char *data = xmalloc(cap + 1);
	int r;

	for (;;) {
		ssize_t n;

		if (len == cap) {
			if (cap > max) {
				r = -EFBIG;
				goto out;
			}
			cap *= 2;
			data = xrealloc(data, cap + 1);
		}
		n = fd_read(fd, data + len, cap - len);
		if (n < 0) {
			r = (int)n;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		r = -EFBIG;
		goto out;
	}
	data[len] = '\0';
	*ret = data;
	data = NULL;
	if (ret_len != NULL)
		*ret_len = len;
	r = 0;
out:
	free(data);
	return r;
}
