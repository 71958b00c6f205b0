/*
 * pki.c - the deployment's private CA over OpenSSL 3: P-256 keys, the CA and
 * server certificates, agent CSRs and their signing.
 *
 * A CSR comes from the network before the peer is known, so pki_csr_sign()
 * treats it as hostile: bounded, parsed by OpenSSL from exactly csr_len bytes,
 * its key must be a valid P-256 point and its self-signature must verify.
 * Nothing but the public key is taken from it: the subject, extensions and
 * validity of an agent certificate are the CA's choice.
 */
#include "tls/pki.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/banned.h"

#define PKI_CN_MAX	64		/* ub-common-name (RFC 5280) */
#define PKI_DAYS_MAX	36500		/* a hundred years; keeps dates in range */
#define PKI_SERIAL_BITS	128

static _Thread_local char pki_err[256];

const char *
pki_last_error(void)
{
	return pki_err;
}

/* Record why the call failed: what, and OpenSSL's reason when it left one.
 * Empties this thread's error queue so the next call starts clean. Returns r. */
static int
pki_fail(int r, const char *what)
{
	unsigned long e = ERR_peek_last_error();

	if (e != 0) {
		char reason[200];

		ERR_error_string_n(e, reason, sizeof(reason));
		snprintf(pki_err, sizeof(pki_err), "%s: %s", what, reason);
	} else {
		snprintf(pki_err, sizeof(pki_err), "%s", what);
	}
	ERR_clear_error();
	return r;
}

static EVP_PKEY *
pki_key_new(void)
{
	return EVP_EC_gen(SN_X9_62_prime256v1);
}

/* The bytes written to a memory BIO, as a view (owned by the BIO). */
static size_t
bio_view(BIO *b, const char **ret_p)
{
	char *p = NULL;
	long n = BIO_get_mem_data(b, &p);

	*ret_p = p;
	return n > 0 ? (size_t)n : 0;
}

/* Wipe what a memory BIO holds (a private key) and free it. */
static void
bio_free_secret(BIO *b)
{
	const char *p;
	size_t n;

	if (b == NULL)
		return;
	n = bio_view(b, &p);
	if (n > 0)
		OPENSSL_cleanse((void *)p, n);
	BIO_free(b);
}

static bool
buf_fits(const struct buf *b, size_t n)
{
	return b->max == 0 || n <= b->max;
}

/* Replace out's content with the BIO's bytes; buf_fits() was checked. */
static void
buf_set_from_bio(struct buf *out, BIO *b)
{
	const char *p;
	size_t n = bio_view(b, &p);

	buf_reset(out);
	(void)buf_append(out, p, n);
}

static int
key_to_pem(EVP_PKEY *key, BIO **ret)
{
	BIO *b = BIO_new(BIO_s_mem());

	if (b == NULL)
		return pki_fail(-ENOMEM, "BIO_new");
	/* OpenSSL 3 writes PKCS#8 ("BEGIN PRIVATE KEY"), unencrypted. */
	if (PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) != 1) {
		bio_free_secret(b);
		return pki_fail(-EIO, "writing the private key");
	}
	*ret = b;
	return 0;
}

static int
cert_to_pem(X509 *x, BIO **ret)
{
	BIO *b = BIO_new(BIO_s_mem());

	if (b == NULL)
		return pki_fail(-ENOMEM, "BIO_new");
	if (PEM_write_bio_X509(b, x) != 1) {
		BIO_free(b);
		return pki_fail(-EIO, "writing the certificate");
	}
	*ret = b;
	return 0;
}

static bool
cn_valid(const char *cn)
{
	size_t n;

	if (cn == NULL)
		return false;
	n = strlen(cn);
	return n > 0 && n <= PKI_CN_MAX;
}

static int
name_set_cn(X509_NAME **ret, const char *cn)
{
	X509_NAME *name = X509_NAME_new();

	if (name == NULL)
		return pki_fail(-ENOMEM, "X509_NAME_new");
	if (X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
			(const unsigned char *)cn, -1, -1, 0) != 1) {
		X509_NAME_free(name);
		return pki_fail(-EINVAL, "bad common name");
	}
	*ret = name;
	return 0;
}

/* A random positive serial of exactly PKI_SERIAL_BITS bits (the top one set,
 * so every serial has the same length); its lowercase hex into hex if not NULL. */
static int
cert_set_serial(X509 *x, char hex[64])
{
	BIGNUM *bn = BN_new();
	ASN1_INTEGER *ai = NULL;
	char *h = NULL;
	int r;

	if (bn == NULL) {
		r = pki_fail(-ENOMEM, "BN_new");
		goto out;
	}
	if (BN_rand(bn, PKI_SERIAL_BITS, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1) {
		r = pki_fail(-EIO, "BN_rand");
		goto out;
	}
	ai = BN_to_ASN1_INTEGER(bn, NULL);
	if (ai == NULL || X509_set_serialNumber(x, ai) != 1) {
		r = pki_fail(-EIO, "setting the serial number");
		goto out;
	}
	if (hex != NULL) {
		size_t n;

		h = BN_bn2hex(bn);
		if (h == NULL) {
			r = pki_fail(-ENOMEM, "BN_bn2hex");
			goto out;
		}
		n = strlen(h);
		if (n >= 64) {
			r = pki_fail(-EIO, "serial too long");
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			hex[i] = (h[i] >= 'A' && h[i] <= 'F') ? (char)(h[i] - 'A' + 'a') : h[i];
		hex[n] = '\0';
	}
	r = 0;
out:
	OPENSSL_free(h);
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return r;
}

/* Valid from an hour ago (clock skew) for `days`. days <= 0 makes a
 * certificate that has already expired, for tests: valid until days - 1 days
 * from now (in the past), from a day before that (two days ago for 0). */
static int
cert_set_validity(X509 *x, int days)
{
	ASN1_TIME *nb = X509_getm_notBefore(x), *na = X509_getm_notAfter(x);
	bool ok;

	if (days > PKI_DAYS_MAX || days < -PKI_DAYS_MAX)
		return pki_fail(-EINVAL, "validity out of range");
	if (days > 0)
		ok = X509_gmtime_adj(nb, -3600) != NULL &&
			X509_time_adj_ex(na, days, 0, NULL) != NULL;
	else
		ok = X509_time_adj_ex(nb, days - 2, 0, NULL) != NULL &&
			X509_time_adj_ex(na, days - 1, 0, NULL) != NULL;
	if (!ok)
		return pki_fail(-EIO, "setting the validity");
	return 0;
}

/* Add one extension in openssl.cnf syntax; ctx names issuer and subject. */
static int
cert_add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	int ok;

	if (ext == NULL)
		return pki_fail(-EIO, "making a certificate extension");
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (ok != 1)
		return pki_fail(-EIO, "adding a certificate extension");
	return 0;
}

struct ext_spec {
	int		 nid;
	const char	*value;
};

/*
 * A version 3 certificate for pubkey with subject CN=cn, issued by issuer
 * (NULL: self-signed) and signed with sign_key, carrying exts. Stores the new
 * certificate in *ret.
 */
static int
cert_build(X509 *issuer, EVP_PKEY *sign_key, EVP_PKEY *pubkey, const char *cn, int days,
	const struct ext_spec *exts, size_t n_exts, char serial_hex[64], X509 **ret)
{
	X509 *x = NULL;
	X509_NAME *subject = NULL;
	X509V3_CTX v3;
	int r;

	x = X509_new();
	if (x == NULL) {
		r = pki_fail(-ENOMEM, "X509_new");
		goto out;
	}
	r = name_set_cn(&subject, cn);
	if (r < 0)
		goto out;
	if (X509_set_version(x, X509_VERSION_3) != 1 || X509_set_subject_name(x, subject) != 1 ||
		X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : subject) != 1 ||
		X509_set_pubkey(x, pubkey) != 1) {
		r = pki_fail(-EIO, "filling in the certificate");
		goto out;
	}
	r = cert_set_serial(x, serial_hex);
	if (r < 0)
		goto out;
	r = cert_set_validity(x, days);
	if (r < 0)
		goto out;
	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	for (size_t i = 0; i < n_exts; i++) {
		r = cert_add_ext(x, &v3, exts[i].nid, exts[i].value);
		if (r < 0)
			goto out;
	}
	if (X509_sign(x, sign_key, EVP_sha256()) <= 0) {
		r = pki_fail(-EIO, "signing the certificate");
		goto out;
	}

	*ret = x;
	x = NULL;
	r = 0;
out:
	X509_NAME_free(subject);
	X509_free(x);
	return r;
}

/* Store the certificate and (if key_bio is not NULL) the key PEM in the
 * caller's buffers, both or neither. */
static int
output_pems(X509 *x, BIO *key_bio, struct buf *ret_cert_pem, struct buf *ret_key_pem)
{
	BIO *cert_bio = NULL;
	const char *p;
	int r;

	r = cert_to_pem(x, &cert_bio);
	if (r < 0)
		goto out;
	if (!buf_fits(ret_cert_pem, bio_view(cert_bio, &p)) ||
		(key_bio != NULL && !buf_fits(ret_key_pem, bio_view(key_bio, &p)))) {
		r = pki_fail(-E2BIG, "output buffer too small");
		goto out;
	}
	buf_set_from_bio(ret_cert_pem, cert_bio);
	if (key_bio != NULL)
		buf_set_from_bio(ret_key_pem, key_bio);
	r = 0;
out:
	BIO_free(cert_bio);
	return r;
}

/* The CA's certificate and key (local, trusted text); -EINVAL when either
 * cannot be read or they do not belong together. */
static int
read_ca(const char *ca_cert_pem, const char *ca_key_pem, X509 **ret_cert, EVP_PKEY **ret_key)
{
	BIO *b = NULL;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	int r;

	if (ca_cert_pem == NULL || ca_key_pem == NULL)
		return pki_fail(-EINVAL, "no CA");
	b = BIO_new_mem_buf(ca_cert_pem, -1);
	if (b == NULL) {
		r = pki_fail(-ENOMEM, "BIO_new_mem_buf");
		goto out;
	}
	cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
	if (cert == NULL) {
		r = pki_fail(-EINVAL, "reading the CA certificate");
		goto out;
	}
	BIO_free(b);
	b = BIO_new_mem_buf(ca_key_pem, -1);
	if (b == NULL) {
		r = pki_fail(-ENOMEM, "BIO_new_mem_buf");
		goto out;
	}
	key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	if (key == NULL) {
		r = pki_fail(-EINVAL, "reading the CA key");
		goto out;
	}
	if (X509_check_private_key(cert, key) != 1) {
		r = pki_fail(-EINVAL, "the CA key does not match the CA certificate");
		goto out;
	}

	*ret_cert = cert;
	*ret_key = key;
	cert = NULL;
	key = NULL;
	r = 0;
out:
	EVP_PKEY_free(key);
	X509_free(cert);
	BIO_free(b);
	return r;
}

int
pki_ca_create(const char *cn, int days, struct buf *ret_cert_pem, struct buf *ret_key_pem)
{
	static const struct ext_spec exts[] = {
		{ NID_basic_constraints, "critical,CA:TRUE" },
		{ NID_key_usage, "critical,keyCertSign,cRLSign" },
		{ NID_subject_key_identifier, "hash" },
	};
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	BIO *key_bio = NULL;
	int r;

	ERR_clear_error();
	if (!cn_valid(cn)) {
		r = pki_fail(-EINVAL, "bad common name");
		goto out;
	}
	key = pki_key_new();
	if (key == NULL) {
		r = pki_fail(-EIO, "generating a key");
		goto out;
	}
	r = cert_build(NULL, key, key, cn, days, exts, sizeof(exts) / sizeof(exts[0]), NULL, &x);
	if (r < 0)
		goto out;
	r = key_to_pem(key, &key_bio);
	if (r < 0)
		goto out;
	r = output_pems(x, key_bio, ret_cert_pem, ret_key_pem);
out:
	bio_free_secret(key_bio);
	X509_free(x);
	EVP_PKEY_free(key);
	return r;
}

int
pki_server_cert_create(const char *ca_cert_pem, const char *ca_key_pem, int days,
	struct buf *ret_cert_pem, struct buf *ret_key_pem)
{
	static const struct ext_spec exts[] = {
		{ NID_basic_constraints, "critical,CA:FALSE" },
		{ NID_key_usage, "critical,digitalSignature" },
		{ NID_ext_key_usage, "serverAuth" },
		{ NID_subject_alt_name, "DNS:" TLS_SERVER_NAME ",IP:127.0.0.1" },
		{ NID_subject_key_identifier, "hash" },
		{ NID_authority_key_identifier, "keyid:always" },
	};
	X509 *ca = NULL, *x = NULL;
	EVP_PKEY *ca_key = NULL, *key = NULL;
	BIO *key_bio = NULL;
	int r;

	ERR_clear_error();
	r = read_ca(ca_cert_pem, ca_key_pem, &ca, &ca_key);
	if (r < 0)
		goto out;
	key = pki_key_new();
	if (key == NULL) {
		r = pki_fail(-EIO, "generating a key");
		goto out;
	}
	r = cert_build(ca, ca_key, key, TLS_SERVER_NAME, days, exts, sizeof(exts) / sizeof(exts[0]),
		NULL, &x);
	if (r < 0)
		goto out;
	r = key_to_pem(key, &key_bio);
	if (r < 0)
		goto out;
	r = output_pems(x, key_bio, ret_cert_pem, ret_key_pem);
out:
	bio_free_secret(key_bio);
	X509_free(x);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	X509_free(ca);
	return r;
}

int
pki_csr_create(const char *cn, struct buf *ret_csr_pem, struct buf *ret_key_pem)
{
	EVP_PKEY *key = NULL;
	X509_REQ *req = NULL;
	X509_NAME *name = NULL;
	BIO *key_bio = NULL, *csr_bio = NULL;
	const char *p;
	int r;

	ERR_clear_error();
	if (!cn_valid(cn)) {
		r = pki_fail(-EINVAL, "bad common name");
		goto out;
	}
	key = pki_key_new();
	if (key == NULL) {
		r = pki_fail(-EIO, "generating a key");
		goto out;
	}
	r = name_set_cn(&name, cn);
	if (r < 0)
		goto out;
	req = X509_REQ_new();
	if (req == NULL) {
		r = pki_fail(-ENOMEM, "X509_REQ_new");
		goto out;
	}
	if (X509_REQ_set_version(req, 0) != 1 || X509_REQ_set_subject_name(req, name) != 1 ||
		X509_REQ_set_pubkey(req, key) != 1 || X509_REQ_sign(req, key, EVP_sha256()) <= 0) {
		r = pki_fail(-EIO, "making the CSR");
		goto out;
	}
	csr_bio = BIO_new(BIO_s_mem());
	if (csr_bio == NULL) {
		r = pki_fail(-ENOMEM, "BIO_new");
		goto out;
	}
	if (PEM_write_bio_X509_REQ(csr_bio, req) != 1) {
		r = pki_fail(-EIO, "writing the CSR");
		goto out;
	}
	r = key_to_pem(key, &key_bio);
	if (r < 0)
		goto out;
	if (!buf_fits(ret_csr_pem, bio_view(csr_bio, &p)) ||
		!buf_fits(ret_key_pem, bio_view(key_bio, &p))) {
		r = pki_fail(-E2BIG, "output buffer too small");
		goto out;
	}
	buf_set_from_bio(ret_csr_pem, csr_bio);
	buf_set_from_bio(ret_key_pem, key_bio);
	r = 0;
out:
	bio_free_secret(key_bio);
	BIO_free(csr_bio);
	X509_NAME_free(name);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	return r;
}

/* A valid P-256 public key, and nothing else (no RSA, other curves, or
 * explicit curve parameters). */
static bool
key_is_p256(EVP_PKEY *key)
{
	EVP_PKEY_CTX *pc = NULL;
	char group[64];
	size_t len = 0;
	bool ok = false;

	if (!EVP_PKEY_is_a(key, "EC"))
		return false;
	if (EVP_PKEY_get_group_name(key, group, sizeof(group), &len) != 1 || len >= sizeof(group))
		return false;
	if (OBJ_sn2nid(group) != NID_X9_62_prime256v1 && EC_curve_nist2nid(group) != NID_X9_62_prime256v1)
		return false;
	pc = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	if (pc != NULL)
		ok = EVP_PKEY_public_check(pc) == 1;
	EVP_PKEY_CTX_free(pc);
	return ok;
}

int
pki_csr_sign(const char *ca_cert_pem, const char *ca_key_pem, const char *csr_pem,
	size_t csr_len, const char *agent_id, int days, struct buf *ret_cert_pem,
	char serial_hex[64])
{
	static const struct ext_spec exts[] = {
		{ NID_basic_constraints, "critical,CA:FALSE" },
		{ NID_key_usage, "critical,digitalSignature" },
		{ NID_ext_key_usage, "clientAuth" },
		{ NID_subject_key_identifier, "hash" },
		{ NID_authority_key_identifier, "keyid:always" },
	};
	X509 *ca = NULL, *x = NULL;
	EVP_PKEY *ca_key = NULL;
	X509_REQ *req = NULL;
	EVP_PKEY *pub;
	BIO *b = NULL;
	char serial[64];
	int r;

	ERR_clear_error();
	if (csr_pem == NULL || csr_len == 0) {
		r = pki_fail(-EINVAL, "empty CSR");
		goto out;
	}
	if (csr_len > PKI_MAX_PEM) {
		r = pki_fail(-EINVAL, "CSR too long");
		goto out;
	}
	if (!cn_valid(agent_id)) {
		r = pki_fail(-EINVAL, "bad agent id");
		goto out;
	}
	r = read_ca(ca_cert_pem, ca_key_pem, &ca, &ca_key);
	if (r < 0)
		goto out;

	/* Exactly csr_len bytes: the text need not be NUL-terminated. */
	b = BIO_new_mem_buf(csr_pem, (int)csr_len);
	if (b == NULL) {
		r = pki_fail(-ENOMEM, "BIO_new_mem_buf");
		goto out;
	}
	req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
	if (req == NULL) {
		r = pki_fail(-EINVAL, "not a PEM certificate request");
		goto out;
	}
	pub = X509_REQ_get0_pubkey(req);
	if (pub == NULL || !key_is_p256(pub)) {
		r = pki_fail(-EINVAL, "the CSR's key is not an EC P-256 key");
		goto out;
	}
	if (X509_REQ_verify(req, pub) != 1) {
		r = pki_fail(-EINVAL, "the CSR's signature does not verify");
		goto out;
	}

	r = cert_build(ca, ca_key, pub, agent_id, days, exts, sizeof(exts) / sizeof(exts[0]),
		serial, &x);
	if (r < 0)
		goto out;
	r = output_pems(x, NULL, ret_cert_pem, NULL);
	if (r < 0)
		goto out;
	if (serial_hex != NULL)
		memcpy(serial_hex, serial, strlen(serial) + 1);
out:
	X509_free(x);
	X509_REQ_free(req);
	BIO_free(b);
	EVP_PKEY_free(ca_key);
	X509_free(ca);
	return r;
}

int
pki_cert_fingerprint(const char *cert_pem, size_t len, uint8_t out[TLS_FINGERPRINT_LEN])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	BIO *b = NULL;
	X509 *x = NULL;
	int r;

	ERR_clear_error();
	if (cert_pem == NULL || len == 0 || len > PKI_MAX_PEM) {
		r = pki_fail(-EINVAL, "bad certificate length");
		goto out;
	}
	b = BIO_new_mem_buf(cert_pem, (int)len);
	if (b == NULL) {
		r = pki_fail(-ENOMEM, "BIO_new_mem_buf");
		goto out;
	}
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	if (x == NULL) {
		r = pki_fail(-EINVAL, "not a PEM certificate");
		goto out;
	}
	if (X509_digest(x, EVP_sha256(), md, &md_len) != 1 || md_len != TLS_FINGERPRINT_LEN) {
		r = pki_fail(-EIO, "X509_digest");
		goto out;
	}
	memcpy(out, md, TLS_FINGERPRINT_LEN);
	r = 0;
out:
	X509_free(x);
	BIO_free(b);
	return r;
}
