/*
 * fuzz_csr.c - libFuzzer target: the CA signing a CSR that came off the
 * network. pki_csr_sign() on arbitrary bytes must never crash, leak or read
 * past the input, and whatever it signs must be a readable certificate.
 *
 * The first input byte picks how the rest is fed: as PEM text, as DER
 * wrapped in PEM armour (so mutations reach the ASN.1 parser rather than the
 * base64 decoder), or as a patch over a valid CSR's DER (so they reach the
 * key and signature checks without a seed corpus).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xalloc.h"
#include "tls/pki.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct buf ca, ca_key;
static uint8_t *seed_der;		/* a valid CSR, DER */
static size_t seed_len;
static bool ready;

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
pem_wrap(const uint8_t *der, size_t len, struct buf *out)
{
	size_t col = 0;

	buf_reset(out);
	(void)buf_puts(out, "-----BEGIN CERTIFICATE REQUEST-----\n");
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)der[i] << 16;
		char q[4];

		if (i + 1 < len)
			v |= (uint32_t)der[i + 1] << 8;
		if (i + 2 < len)
			v |= der[i + 2];
		q[0] = b64[v >> 18 & 63];
		q[1] = b64[v >> 12 & 63];
		q[2] = i + 1 < len ? b64[v >> 6 & 63] : '=';
		q[3] = i + 2 < len ? b64[v & 63] : '=';
		(void)buf_append(out, q, 4);
		col += 4;
		if (col == 64) {
			(void)buf_putc(out, '\n');
			col = 0;
		}
	}
	if (col != 0)
		(void)buf_putc(out, '\n');
	(void)buf_puts(out, "-----END CERTIFICATE REQUEST-----\n");
}

/* The base64 between the armour lines of a PEM we made ourselves. */
static void
pem_unwrap(const char *pem, uint8_t **ret, size_t *ret_len)
{
	const char *p = strchr(pem, '\n') + 1, *end = strstr(p, "-----END");
	uint8_t *out = xmalloc((size_t)(end - p));
	uint32_t acc = 0;
	size_t n = 0;
	int bits = 0;

	for (; p < end; p++) {
		const char *k = strchr(b64, *p);

		if (*p == '\n' || *p == '=' || k == NULL)
			continue;
		acc = acc << 6 | (uint32_t)(k - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	*ret = out;
	*ret_len = n;
}

static void
init(void)
{
	struct buf csr, key, again;

	buf_init(&ca, PKI_MAX_PEM);
	buf_init(&ca_key, PKI_MAX_PEM);
	buf_init(&csr, PKI_MAX_PEM);
	buf_init(&key, PKI_MAX_PEM);
	if (pki_ca_create("fuzz CA", 30, &ca, &ca_key) != 0 ||
		pki_csr_create("fuzz agent", &csr, &key) != 0)
		abort();
	pem_unwrap(csr.data, &seed_der, &seed_len);
	/* The round trip is exact, so mode 2 starts from a CSR that signs. */
	buf_init(&again, PKI_MAX_PEM);
	pem_wrap(seed_der, seed_len, &again);
	if (strcmp(again.data, csr.data) != 0 ||
		pki_csr_sign(ca.data, ca_key.data, again.data, again.len, "a", 1, &key, NULL) != 0)
		abort();
	buf_release(&again);
	buf_release(&csr);
	buf_release(&key);
	ready = true;
}

static void
sign(const char *p, size_t len)
{
	char *copy = xmalloc(len ? len : 1);	/* exactly len: over-reads are caught */
	uint8_t fp[32];
	char serial[64];
	struct buf cert;

	memcpy(copy, p, len);
	buf_init(&cert, PKI_MAX_PEM);
	if (pki_csr_sign(ca.data, ca_key.data, copy, len, "agent-fuzz", 30, &cert, serial) == 0) {
		if (len > PKI_MAX_PEM || strlen(serial) != 32 ||
			pki_cert_fingerprint(cert.data, cert.len, fp) != 0)
			__builtin_trap();
	}
	buf_release(&cert);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf pem;

	if (!ready)
		init();
	if (size == 0)
		return 0;
	buf_init(&pem, 4 * PKI_MAX_PEM);
	switch (data[0] % 3) {
	case 0:
		sign((const char *)data + 1, size - 1);
		break;
	case 1:
		if (size - 1 <= 2 * PKI_MAX_PEM) {
			pem_wrap(data + 1, size - 1, &pem);
			sign(pem.data, pem.len);
		}
		break;
	default: {
		/* data[1..2]: where the patch goes; the rest: the patch. Bytes
		 * past the seed's end extend it. */
		size_t at, n = size > 3 ? size - 3 : 0;
		uint8_t *der;

		if (size < 3 || n > 2 * PKI_MAX_PEM)
			break;
		at = ((size_t)data[1] << 8 | data[2]) % (seed_len + 1);
		der = xmalloc(at + n > seed_len ? at + n : seed_len);
		memcpy(der, seed_der, seed_len);
		memcpy(der + at, data + 3, n);
		/* An empty patch at the end tries the unpatched seed; a patch
		 * of one byte 0xff truncates it at `at` instead. */
		if (n == 1 && data[3] == 0xff)
			pem_wrap(der, at, &pem);
		else
			pem_wrap(der, at + n > seed_len ? at + n : seed_len, &pem);
		sign(pem.data, pem.len);
		free(der);
		break;
	}
	}
	buf_release(&pem);
	return 0;
}
