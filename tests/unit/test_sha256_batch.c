/*
 * test_sha256_batch.c - SHA-256 of many messages at once (tls/sha256_batch.h)
 * gives what OpenSSL gives one at a time: lengths around the block size, up
 * to and past the lanes' limit, empty ones, batches of one and of the most,
 * the same buffer twice. Run with whatever engine this machine gets, and
 * (test_sha256_batch_forced, through the environment) with the lanes forced.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tls/sha256.h"
#include "tls/sha256_batch.h"

static void
check(struct sha256_batch *b, const uint8_t *data, const size_t *lens, const size_t *offs,
	size_t n)
{
	const void *msgs[SHA256_BATCH_MAX];
	uint8_t out[SHA256_BATCH_MAX][SHA256_LEN], want[SHA256_LEN];

	for (size_t i = 0; i < n; i++)
		msgs[i] = data + offs[i];
	sha256_batch_run(b, msgs, lens, out, n);
	for (size_t i = 0; i < n; i++) {
		sha256_buf(msgs[i], lens[i], want);
		if (memcmp(out[i], want, SHA256_LEN) != 0)
			fail_msg("message %zu of %zu (%zu bytes) differs (engine %s)", i, n, lens[i],
				sha256_batch_engine());
	}
}

static void
test_agrees_with_openssl(void **state)
{
	static const size_t odd[] = { 0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 4095, 4096,
		20000, 65534, SHA256_BATCH_MSG_MAX, SHA256_BATCH_MSG_MAX + 1, 100000 };
	size_t n = sizeof(odd) / sizeof(odd[0]), total = 0;
	size_t lens[SHA256_BATCH_MAX], offs[SHA256_BATCH_MAX];
	struct sha256_batch *b = sha256_batch_new();
	uint8_t *data;

	(void)state;
	print_message("engine: %s\n", sha256_batch_engine());
	for (size_t i = 0; i < n; i++)
		total += odd[i];
	data = malloc(total + SHA256_BATCH_MAX * 70000);
	assert_non_null(data);
	for (size_t i = 0; i < total + SHA256_BATCH_MAX * 70000; i++)
		data[i] = (uint8_t)(i * 2654435761u >> 13);
	/* the odd lengths, together */
	for (size_t i = 0, off = 0; i < n; i++) {
		lens[i] = odd[i];
		offs[i] = off;
		off += odd[i];
	}
	check(b, data, lens, offs, n);
	/* one at a time */
	for (size_t i = 0; i < n; i++)
		check(b, data, &lens[i], &offs[i], 1);
	/* the most a batch takes, random lengths, some sharing a buffer */
	srand(7);
	for (int round = 0; round < 20; round++) {
		for (size_t i = 0; i < SHA256_BATCH_MAX; i++) {
			lens[i] = (size_t)rand() % 70000;
			offs[i] = (i % 5 == 0) ? 0 : (size_t)rand() % (SHA256_BATCH_MAX * 70000 - lens[i]);
		}
		check(b, data, lens, offs, SHA256_BATCH_MAX);
	}
	sha256_batch_free(b);
	sha256_batch_free(NULL);
	free(data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agrees_with_openssl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
