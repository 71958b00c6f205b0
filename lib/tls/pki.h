/*
 * pki.h - the deployment's private CA: keys, certificates, CSRs (OpenSSL).
 *
 * All keys are ECDSA P-256. Certificates and keys travel as PEM text in
 * struct buf (NUL-terminated). Agent certificates carry extendedKeyUsage
 * clientAuth only and their CN is the agent id the server chose (whatever the
 * CSR asked for); the server certificate carries serverAuth and the DNS name
 * TLS_SERVER_NAME. Inputs (CSR, certificates) are hostile: each is bounded by
 * PKI_MAX_PEM and parsed by OpenSSL; a CSR must hold a P-256 key and a valid
 * self-signature. Errors are -EINVAL (bad input), -ENOMEM, -EIO (OpenSSL
 * failure); pki_last_error() gives OpenSSL's reason for the last failure in
 * this thread.
 */
#ifndef YINGJI_PKI_H
#define YINGJI_PKI_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "tls/tls.h"

#define PKI_MAX_PEM	(16 * 1024)

/* A self-signed CA (CN cn, valid `days`). */
int	pki_ca_create(const char *cn, int days, struct buf *ret_cert_pem, struct buf *ret_key_pem);
/* A new key and the server certificate for it, signed by the CA. */
int	pki_server_cert_create(const char *ca_cert_pem, const char *ca_key_pem, int days,
		struct buf *ret_cert_pem, struct buf *ret_key_pem);
/* A new key and a CSR for it with subject CN cn (the agent's name). */
int	pki_csr_create(const char *cn, struct buf *ret_csr_pem, struct buf *ret_key_pem);
/* Sign a CSR as an agent certificate with CN agent_id, valid from now-1h for
 * `days`; a random 128-bit serial. serial_hex gets its hex form (may be NULL). */
int	pki_csr_sign(const char *ca_cert_pem, const char *ca_key_pem, const char *csr_pem,
		size_t csr_len, const char *agent_id, int days, struct buf *ret_cert_pem,
		char serial_hex[64]);
/* SHA-256 of the DER form of the (first) certificate in pem. */
int	pki_cert_fingerprint(const char *cert_pem, size_t len, uint8_t out[TLS_FINGERPRINT_LEN]);
const char *pki_last_error(void);

#endif
