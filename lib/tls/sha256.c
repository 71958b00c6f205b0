/* sha256.c - SHA-256 over OpenSSL 3 EVP, with the digest fetched once per process. */
#include "tls/sha256.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/hex.h"
#include "core/xalloc.h"
#include "core/fdio.h"
#include "core/banned.h"

#define SHA256_FD_BUFSIZE	(128 * 1024)

struct sha256 {
	EVP_MD_CTX	*ctx;
};

/* An explicit fetch once: EVP_DigestInit_ex on EVP_sha256() would look the
 * provider implementation up again on every init. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_md_once = PTHREAD_ONCE_INIT;

static void
sha256_md_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* Failures here mean OpenSSL is unusable (no default provider, no memory):
 * not something a caller can handle, like out of memory. */
static void
sha256_die(const char *what)
{
	static const char prefix[] = "yingji: sha256: ";

	(void)!write(2, prefix, sizeof(prefix) - 1);
	(void)!write(2, what, strlen(what));
	(void)!write(2, "\n", 1);
	abort();
}

static const EVP_MD *
sha256_get_md(void)
{
	pthread_once(&sha256_md_once, sha256_md_fetch);
	if (sha256_md == NULL)
		sha256_die("cannot fetch SHA256 from OpenSSL");
	return sha256_md;
}

struct sha256 *
sha256_new(void)
{
	struct sha256 *h = xmalloc(sizeof(*h));

	h->ctx = EVP_MD_CTX_new();
	if (h->ctx == NULL)
		sha256_die("EVP_MD_CTX_new failed");
	sha256_reset(h);
	return h;
}

void
sha256_free(struct sha256 *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void
sha256_reset(struct sha256 *h)
{
	if (EVP_DigestInit_ex(h->ctx, sha256_get_md(), NULL) != 1)
		sha256_die("EVP_DigestInit_ex failed");
}

void
sha256_update(struct sha256 *h, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (EVP_DigestUpdate(h->ctx, p, n) != 1)
		sha256_die("EVP_DigestUpdate failed");
}

void
sha256_final(struct sha256 *h, uint8_t out[SHA256_LEN])
{
	unsigned int len = 0;

	if (EVP_DigestFinal_ex(h->ctx, out, &len) != 1 || len != SHA256_LEN)
		sha256_die("EVP_DigestFinal_ex failed");
	sha256_reset(h);
}

void
sha256_buf(const void *p, size_t n, uint8_t out[SHA256_LEN])
{
	unsigned int len = 0;

	if (EVP_Digest(p, n, out, &len, sha256_get_md(), NULL) != 1 || len != SHA256_LEN)
		sha256_die("EVP_Digest failed");
}

int
sha256_fd(int fd, uint8_t out[SHA256_LEN], uint64_t *ret_size)
{
	/* On the stack: a fresh heap buffer this size per file is an mmap, page
	 * faults and munmap for every file scanned. */
	uint8_t buf[SHA256_FD_BUFSIZE];
	struct sha256 *h = NULL;
	uint64_t size = 0;
	int r;

	h = sha256_new();
	for (;;) {
		ssize_t n = fd_read(fd, buf, SHA256_FD_BUFSIZE);

		if (n < 0) {
			r = (int)n;
			goto out;
		}
		if (n == 0)
			break;
		sha256_update(h, buf, (size_t)n);
		size += (uint64_t)n;
	}
	sha256_final(h, out);
	if (ret_size != NULL)
		*ret_size = size;
	r = 0;
out:
	sha256_free(h);
	return r;
}

void
sha256_to_hex(const uint8_t d[SHA256_LEN], char out[SHA256_HEX_LEN + 1])
{
	hex_encode(d, SHA256_LEN, out);
}

/* Exactly 64 hex digits (either case) and the end of the string; out is
 * written only on success. */
int
sha256_from_hex(const char *hex, uint8_t out[SHA256_LEN])
{
	uint8_t d[SHA256_LEN];

	if (hex_decode(hex, SHA256_LEN, d) < 0)
		return -EINVAL;
	if (hex[SHA256_HEX_LEN] != '\0')
		return -EINVAL;
	for (size_t i = 0; i < SHA256_LEN; i++)
		out[i] = d[i];
	return 0;
}
