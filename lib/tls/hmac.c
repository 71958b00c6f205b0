/* hmac.c - HMAC-SHA256 over OpenSSL 3's one-shot HMAC(). */
#include "tls/hmac.h"

#include <stdlib.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/banned.h"

void
hmac_sha256(const void *key, size_t keylen, const void *msg, size_t len,
	uint8_t out[HMAC_SHA256_LEN])
{
	static const char fail[] = "yingji: hmac: HMAC-SHA256 failed in OpenSSL\n";
	static const unsigned char none[1];
	unsigned int outlen = 0;

	/* OpenSSL wants real pointers even for empty inputs (Feishu signs an
	 * empty message); point them at a static byte. */
	if (keylen == 0 || key == NULL)
		key = none;
	if (len == 0 || msg == NULL)
		msg = none;
	if (keylen > (size_t)0x7fffffff ||
	    HMAC(EVP_sha256(), key, (int)keylen, msg, len, out, &outlen) == NULL ||
	    outlen != HMAC_SHA256_LEN) {
		(void)!write(2, fail, sizeof(fail) - 1);
		abort();
	}
}
