/* sha256_batch.c - SHA-256 of many messages at once (sha256_batch.h). */
#include "tls/sha256_batch.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef YINGJI_HAVE_IPSEC_MB
#include <intel-ipsec-mb.h>
#endif

#include "core/xalloc.h"
#include "core/banned.h"

enum engine { ENGINE_OPENSSL = 0, ENGINE_AVX2, ENGINE_AVX512 };

static pthread_once_t chosen_once = PTHREAD_ONCE_INIT;
static enum engine chosen = ENGINE_OPENSSL;

struct sha256_batch {
	enum engine	 engine;
#ifdef YINGJI_HAVE_IPSEC_MB
	IMB_MGR		*mgr;
#endif
};

#ifdef YINGJI_HAVE_IPSEC_MB
/* A manager for engine e (NULL when the CPU lacks it). */
static IMB_MGR *
mgr_new(enum engine e)
{
	IMB_MGR *m = alloc_mb_mgr(0);

	if (m == NULL)
		return NULL;
	if (e == ENGINE_AVX512 && (m->features & IMB_CPUFLAGS_AVX512) == IMB_CPUFLAGS_AVX512)
		init_mb_mgr_avx512(m);
	else if (e == ENGINE_AVX2 && (m->features & IMB_CPUFLAGS_AVX2) == IMB_CPUFLAGS_AVX2)
		init_mb_mgr_avx2(m);
	else {
		free_mb_mgr(m);
		return NULL;
	}
	return m;
}

/* Through the manager; false when a job did not complete (then use OpenSSL). */
static bool
mb_run(IMB_MGR *m, const void *const *msgs, const size_t *lens, uint8_t (*outs)[SHA256_LEN],
	size_t n)
{
	size_t done = 0, order[SHA256_BATCH_MAX];
	bool ok = true;
	IMB_JOB *j;

	/* Longest first: the lanes then finish close together (a lane whose
	 * message ends early takes the next one; at the end, idle lanes are
	 * lost work). */
	for (size_t i = 0; i < n; i++) {
		size_t k = i;

		while (k > 0 && lens[order[k - 1]] < lens[i]) {
			order[k] = order[k - 1];
			k--;
		}
		order[k] = i;
	}
	for (size_t oi = 0; oi < n; oi++) {
		size_t i = order[oi];

		if (lens[i] == 0 || lens[i] > SHA256_BATCH_MSG_MAX) {
			sha256_buf(msgs[i], lens[i], outs[i]);	/* no empty jobs, none too long */
			done++;
			continue;
		}
		j = IMB_GET_NEXT_JOB(m);
		/* (not zeroed: the manager keeps its own fields in the job) */
		j->cipher_mode = IMB_CIPHER_NULL;
		j->cipher_direction = IMB_DIR_ENCRYPT;
		j->chain_order = IMB_ORDER_HASH_CIPHER;
		j->hash_alg = IMB_AUTH_SHA_256;
		j->src = msgs[i];
		j->hash_start_src_offset_in_bytes = 0;
		j->msg_len_to_hash_in_bytes = lens[i];
		j->auth_tag_output = outs[i];
		j->auth_tag_output_len_in_bytes = SHA256_LEN;
		j->user_data = NULL;
		for (j = IMB_SUBMIT_JOB(m); j != NULL; j = IMB_GET_COMPLETED_JOB(m)) {
			ok &= j->status == IMB_STATUS_COMPLETED;
			done++;
		}
	}
	while ((j = IMB_FLUSH_JOB(m)) != NULL) {
		ok &= j->status == IMB_STATUS_COMPLETED;
		done++;
	}
	return ok && done == n;
}

static double
seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The faster of OpenSSL and the best lanes this CPU has, on 16 messages of
 * 64 KiB (and they must agree). */
static void
choose(void)
{
	enum { N = 16, LEN = 60 * 1024 };
	const char *force = getenv("YINGJI_SHA256_BATCH");
	uint8_t (*a)[SHA256_LEN] = xmalloc(N * SHA256_LEN), (*b)[SHA256_LEN] = xmalloc(N * SHA256_LEN);
	uint8_t *data = xmalloc((size_t)N * LEN);
	const void *msgs[N];
	size_t lens[N];
	enum engine e = ENGINE_AVX512;
	IMB_MGR *m = mgr_new(e);
	double t0, t_mb, t_ssl;

	if (m == NULL)
		m = mgr_new(e = ENGINE_AVX2);
	if (m == NULL || (force != NULL && strcmp(force, "openssl") == 0))
		goto out;
	for (size_t i = 0; i < (size_t)N * LEN; i++)
		data[i] = (uint8_t)(i * 2654435761u >> 24);
	for (size_t i = 0; i < N; i++) {
		msgs[i] = data + i * LEN;
		lens[i] = LEN - i * 61;	/* lengths not all alike */
	}
	if (!mb_run(m, msgs, lens, a, N))
		goto out;
	t0 = seconds();
	(void)mb_run(m, msgs, lens, a, N);
	t_mb = seconds() - t0;
	t0 = seconds();
	for (size_t i = 0; i < N; i++)
		sha256_buf(msgs[i], lens[i], b[i]);
	t_ssl = seconds() - t0;
	if (memcmp(a, b, N * SHA256_LEN) != 0)
		goto out;	/* never expected: then OpenSSL alone */
	if (t_mb < t_ssl || (force != NULL && strcmp(force, "mb") == 0))
		chosen = e;
out:
	if (m != NULL)
		free_mb_mgr(m);
	free(a);
	free(b);
	free(data);
}
#else
static void
choose(void)
{
}
#endif

struct sha256_batch *
sha256_batch_new(void)
{
	struct sha256_batch *b = xcalloc(1, sizeof(*b));

	pthread_once(&chosen_once, choose);
	b->engine = chosen;
#ifdef YINGJI_HAVE_IPSEC_MB
	if (b->engine != ENGINE_OPENSSL) {
		b->mgr = mgr_new(b->engine);
		if (b->mgr == NULL)
			b->engine = ENGINE_OPENSSL;
	}
#endif
	return b;
}

void
sha256_batch_free(struct sha256_batch *b)
{
	if (b == NULL)
		return;
#ifdef YINGJI_HAVE_IPSEC_MB
	if (b->mgr != NULL)
		free_mb_mgr(b->mgr);
#endif
	free(b);
}

void
sha256_batch_run(struct sha256_batch *b, const void *const *msgs, const size_t *lens,
	uint8_t (*outs)[SHA256_LEN], size_t n)
{
#ifdef YINGJI_HAVE_IPSEC_MB
	if (b->engine != ENGINE_OPENSSL && mb_run(b->mgr, msgs, lens, outs, n))
		return;
#endif
	for (size_t i = 0; i < n; i++)
		sha256_buf(msgs[i], lens[i], outs[i]);
}

const char *
sha256_batch_engine(void)
{
	pthread_once(&chosen_once, choose);
	return chosen == ENGINE_AVX512 ? "avx512" : chosen == ENGINE_AVX2 ? "avx2" : "openssl";
}
