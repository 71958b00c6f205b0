/* test_sha256.c - SHA-256 wrapper: known vectors, streaming, fds and hex. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "tls/sha256.h"
#include "core/banned.h"

#define HEX_EMPTY	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define HEX_ABC		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define HEX_MILLION_A	"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

static void
assert_digest_hex(const uint8_t d[SHA256_LEN], const char *want)
{
	char hex[SHA256_HEX_LEN + 1];

	sha256_to_hex(d, hex);
	assert_string_equal(hex, want);
}

static void
known_vectors(void **state)
{
	uint8_t d[SHA256_LEN];

	sha256_buf("", 0, d);
	assert_digest_hex(d, HEX_EMPTY);
	sha256_buf("abc", 3, d);
	assert_digest_hex(d, HEX_ABC);
}

static void
streaming_matches_one_shot(void **state)
{
	/* A million 'a' fed in uneven pieces; final() resets for the next hash. */
	struct sha256 *h = sha256_new();
	char *a = malloc(1000000);
	uint8_t d[SHA256_LEN];
	size_t off = 0, step = 1;

	memset(a, 'a', 1000000);
	while (off < 1000000) {
		size_t n = step < 1000000 - off ? step : 1000000 - off;

		sha256_update(h, a + off, n);
		off += n;
		step = step * 3 + 1;
	}
	sha256_final(h, d);
	assert_digest_hex(d, HEX_MILLION_A);

	sha256_update(h, "abc", 3);
	sha256_final(h, d);
	assert_digest_hex(d, HEX_ABC);

	sha256_update(h, "junk", 4);
	sha256_reset(h);
	sha256_final(h, d);
	assert_digest_hex(d, HEX_EMPTY);

	sha256_free(h);
	sha256_free(NULL);
	free(a);
}

static void
fd_hashes_from_current_offset(void **state)
{
	uint8_t d[SHA256_LEN];
	uint64_t size = 0;
	char *a = malloc(1000000);
	int fd;

	fd = memfd_create("sha", MFD_CLOEXEC);
	assert_true(fd >= 0);
	memset(a, 'a', 1000000);
	assert_int_equal(write(fd, "xyz", 3), 3);
	assert_int_equal(write(fd, a, 1000000), 1000000);
	assert_int_equal(lseek(fd, 3, SEEK_SET), 3);
	assert_int_equal(sha256_fd(fd, d, &size), 0);
	assert_digest_hex(d, HEX_MILLION_A);
	assert_int_equal(size, 1000000);

	/* At EOF: the empty string. */
	assert_int_equal(sha256_fd(fd, d, &size), 0);
	assert_digest_hex(d, HEX_EMPTY);
	assert_int_equal(size, 0);
	close(fd);

	assert_int_equal(sha256_fd(-1, d, &size), -EBADF);
	free(a);
}

static void
hex_round_trip(void **state)
{
	uint8_t d[SHA256_LEN], back[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];

	for (size_t i = 0; i < SHA256_LEN; i++)
		d[i] = (uint8_t)(i * 37 + 11);
	sha256_to_hex(d, hex);
	assert_int_equal(strlen(hex), SHA256_HEX_LEN);
	assert_int_equal(sha256_from_hex(hex, back), 0);
	assert_memory_equal(d, back, SHA256_LEN);

	assert_int_equal(sha256_from_hex(
		"BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", back), 0);
	sha256_buf("abc", 3, d);
	assert_memory_equal(d, back, SHA256_LEN);
}

static void
hex_rejects_bad_input(void **state)
{
	uint8_t d[SHA256_LEN], keep[SHA256_LEN];

	memset(d, 0x5a, sizeof(d));
	memcpy(keep, d, sizeof(d));
	assert_int_equal(sha256_from_hex("", d), -EINVAL);
	assert_int_equal(sha256_from_hex("abc", d), -EINVAL);
	/* 63 digits, 65 digits, a non-hex digit, a suffix. */
	assert_int_equal(sha256_from_hex(&HEX_ABC[1], d), -EINVAL);
	assert_int_equal(sha256_from_hex(HEX_ABC "0", d), -EINVAL);
	assert_int_equal(sha256_from_hex(
		"ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", d), -EINVAL);
	assert_int_equal(sha256_from_hex(HEX_ABC ".zst", d), -EINVAL);
	/* Nothing written on failure. */
	assert_memory_equal(d, keep, sizeof(d));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_vectors),
		cmocka_unit_test(streaming_matches_one_shot),
		cmocka_unit_test(fd_hashes_from_current_offset),
		cmocka_unit_test(hex_round_trip),
		cmocka_unit_test(hex_rejects_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
