/* test_wire.c - frames on the agent channel: every type survives a round trip,
 * a frame arriving a byte at a time is only taken whole, frames back to back
 * are taken one by one, and every malformed header or body is refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/xalloc.h"
#include "proto/wire.h"
#include "core/banned.h"

/* A copy of p[0..len) with nothing after it, so a read past len is caught by
 * AddressSanitizer. */
static unsigned char *
exact_copy(const void *p, size_t len)
{
	unsigned char *q = xmalloc(len ? len : 1);

	if (len > 0)
		memcpy(q, p, len);
	return q;
}

/* Decode from an exact copy of p[0..len); f->body then points back into p. */
static long
decode(const void *p, size_t len, struct wire_frame *f)
{
	unsigned char *q = exact_copy(p, len);
	long n = wire_decode(q, len, f);

	if (n > 0) {
		assert_true(f->body >= (const char *)q && f->body + f->body_len <= (const char *)q + n);
		f->body = (const char *)p + (f->body - (const char *)q);
	}
	free(q);
	return n;
}

/* Build a raw frame: length (of type + body), type, body. */
static size_t
raw_frame(unsigned char *out, uint32_t length, uint8_t type, const void *body, size_t body_len)
{
	out[0] = (unsigned char)length;
	out[1] = (unsigned char)(length >> 8);
	out[2] = (unsigned char)(length >> 16);
	out[3] = (unsigned char)(length >> 24);
	out[4] = type;
	if (body_len > 0)
		memcpy(out + 5, body, body_len);
	return 5 + body_len;
}

static void
json_types_round_trip(void **state)
{
	static const enum wire_type types[] = { WIRE_ENROLL, WIRE_ENROLLED, WIRE_HELLO,
		WIRE_WELCOME, WIRE_HEARTBEAT, WIRE_ERROR };
	const char *json = "{\"agent\":\"a1\",\"name\":\"web-01\",\"version\":\"0.1.0\"}";
	struct buf b;

	buf_init(&b, 4096);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct wire_frame f;

		buf_reset(&b);
		assert_int_equal(wire_put_json(&b, types[i], json, strlen(json)), 0);
		assert_int_equal(b.len, 5 + strlen(json));
		/* Little-endian length of type + body, then the type. */
		assert_int_equal((unsigned char)b.data[0], (1 + strlen(json)) & 0xff);
		assert_int_equal(b.data[1], 0);
		assert_int_equal(b.data[4], types[i]);
		assert_int_equal(decode(b.data, b.len, &f), (long)b.len);
		assert_int_equal(f.type, types[i]);
		assert_int_equal(f.body_len, strlen(json));
		assert_memory_equal(f.body, json, strlen(json));
		assert_string_not_equal(wire_type_name(types[i]), "unknown");
	}
	buf_release(&b);
}

static void
event_round_trips(void **state)
{
	const char *payload = "{\"type\":\"tamper\",\"path\":\"/var/www/html/index.html\"}";
	const unsigned char *d;
	struct wire_frame f;
	struct buf b;

	buf_init(&b, 4096);
	assert_int_equal(wire_put_event(&b, WIRE_LANE_URGENT, UINT64_C(0x0102030405060708),
		INT64_C(1763783378123456789), payload, strlen(payload)), 0);
	/* The bytes on the wire are little-endian whatever the host. */
	d = (const unsigned char *)b.data;
	assert_int_equal(d[4], WIRE_EVENT);
	assert_int_equal(d[5], WIRE_LANE_URGENT);
	assert_int_equal(d[6], 0x08);
	assert_int_equal(d[13], 0x01);
	assert_int_equal(decode(b.data, b.len, &f), (long)b.len);
	assert_int_equal(f.type, WIRE_EVENT);
	assert_int_equal(f.lane, WIRE_LANE_URGENT);
	assert_true(f.seq == UINT64_C(0x0102030405060708));
	assert_true(f.time_ns == INT64_C(1763783378123456789));
	assert_int_equal(f.body_len, strlen(payload));
	assert_memory_equal(f.body, payload, strlen(payload));

	/* Negative and extreme times, the bulk lane, the largest seq. */
	buf_reset(&b);
	assert_int_equal(wire_put_event(&b, WIRE_LANE_BULK, UINT64_MAX, INT64_MIN, "{}", 2), 0);
	assert_int_equal(decode(b.data, b.len, &f), (long)b.len);
	assert_int_equal(f.lane, WIRE_LANE_BULK);
	assert_true(f.seq == UINT64_MAX);
	assert_true(f.time_ns == INT64_MIN);
	buf_reset(&b);
	assert_int_equal(wire_put_event(&b, WIRE_LANE_BULK, 1, -1, "{}", 2), 0);
	assert_int_equal(decode(b.data, b.len, &f), (long)b.len);
	assert_true(f.time_ns == -1);
	buf_release(&b);
}

static void
ack_round_trips(void **state)
{
	struct wire_frame f;
	struct buf b;

	buf_init(&b, 4096);
	assert_int_equal(wire_put_ack(&b, WIRE_LANE_BULK, 123456789012345), 0);
	assert_int_equal(b.len, 5 + 9);
	assert_int_equal(decode(b.data, b.len, &f), (long)b.len);
	assert_int_equal(f.type, WIRE_ACK);
	assert_int_equal(f.lane, WIRE_LANE_BULK);
	assert_true(f.seq == 123456789012345);
	assert_int_equal(f.body_len, 0);
	buf_release(&b);
}

static void
command_and_result_round_trip(void **state)
{
	const char *cmd = "{\"command\":\"isolate\"}", *res = "{\"ok\":true}";
	struct wire_frame f;
	struct buf b;
	long n;

	buf_init(&b, 4096);
	assert_int_equal(wire_put_command(&b, WIRE_COMMAND, 42, cmd, strlen(cmd)), 0);
	assert_int_equal(wire_put_command(&b, WIRE_RESULT, UINT64_MAX, res, strlen(res)), 0);
	n = decode(b.data, b.len, &f);
	assert_int_equal(n, 5 + 8 + strlen(cmd));
	assert_int_equal(f.type, WIRE_COMMAND);
	assert_true(f.id == 42);
	assert_int_equal(f.body_len, strlen(cmd));
	assert_memory_equal(f.body, cmd, strlen(cmd));
	assert_int_equal(decode(b.data + n, b.len - (size_t)n, &f), (long)b.len - n);
	assert_int_equal(f.type, WIRE_RESULT);
	assert_true(f.id == UINT64_MAX);
	assert_memory_equal(f.body, res, strlen(res));
	buf_release(&b);
}

static void
every_prefix_needs_more(void **state)
{
	const char *payload = "{\"type\":\"tamper\"}";
	struct wire_frame f;
	struct buf b;

	buf_init(&b, 4096);
	assert_int_equal(wire_put_event(&b, WIRE_LANE_URGENT, 7, 1000, payload, strlen(payload)), 0);
	assert_int_equal(wire_put_ack(&b, WIRE_LANE_URGENT, 7), 0);
	assert_int_equal(wire_put_json(&b, WIRE_HEARTBEAT, "{\"time_ns\":1}", 13), 0);
	assert_int_equal(wire_put_command(&b, WIRE_COMMAND, 9, "", 0), 0);
	for (size_t start = 0; start < b.len;) {
		long whole = decode(b.data + start, b.len - start, &f);

		assert_true(whole > 0);
		for (size_t n = 0; n < (size_t)whole; n++)
			assert_int_equal(decode(b.data + start, n, &f), 0);
		start += (size_t)whole;
	}
	buf_release(&b);
}

static void
frames_back_to_back(void **state)
{
	struct wire_frame f;
	struct buf b;
	size_t off = 0;
	long n;

	buf_init(&b, 4096);
	assert_int_equal(wire_put_json(&b, WIRE_HELLO, "{\"agent\":\"a\"}", 13), 0);
	assert_int_equal(wire_put_event(&b, WIRE_LANE_BULK, 1, 5, "{\"a\":1}", 7), 0);
	/* Plus half of a third frame. */
	assert_int_equal(wire_put_ack(&b, WIRE_LANE_URGENT, 3), 0);
	b.len -= 4;

	n = decode(b.data + off, b.len - off, &f);
	assert_int_equal(n, 5 + 13);
	assert_int_equal(f.type, WIRE_HELLO);
	assert_memory_equal(f.body, "{\"agent\":\"a\"}", 13);
	off += (size_t)n;
	n = decode(b.data + off, b.len - off, &f);
	assert_int_equal(n, 5 + 17 + 7);
	assert_int_equal(f.type, WIRE_EVENT);
	assert_true(f.seq == 1);
	assert_memory_equal(f.body, "{\"a\":1}", 7);
	off += (size_t)n;
	assert_int_equal(decode(b.data + off, b.len - off, &f), 0);
	buf_release(&b);
}

static void
zero_length_is_eproto(void **state)
{
	unsigned char fr[16];
	struct wire_frame f;
	size_t n = raw_frame(fr, 0, WIRE_HELLO, "x", 1);

	assert_int_equal(decode(fr, n, &f), -EPROTO);
}

static void
oversized_length_is_e2big_from_the_header(void **state)
{
	unsigned char fr[16];
	struct wire_frame f;

	/* Only the 5 header bytes are there: the answer must not wait for 1 MiB. */
	raw_frame(fr, WIRE_MAX_FRAME + 1, WIRE_EVENT, NULL, 0);
	assert_int_equal(decode(fr, WIRE_HEADER_LEN, &f), -E2BIG);
	raw_frame(fr, UINT32_MAX, WIRE_HELLO, NULL, 0);
	assert_int_equal(decode(fr, WIRE_HEADER_LEN, &f), -E2BIG);
	/* The largest allowed length is only waiting for its body. */
	raw_frame(fr, WIRE_MAX_FRAME, WIRE_EVENT, NULL, 0);
	assert_int_equal(decode(fr, WIRE_HEADER_LEN, &f), 0);
}

static void
unknown_type_is_eproto(void **state)
{
	unsigned char fr[16];
	struct wire_frame f;

	raw_frame(fr, 3, 0, "{}", 2);
	assert_int_equal(decode(fr, 7, &f), -EPROTO);
	raw_frame(fr, 3, WIRE_ERROR + 1, "{}", 2);
	assert_int_equal(decode(fr, 7, &f), -EPROTO);
	raw_frame(fr, 3, 0xff, "{}", 2);
	/* Decided from the header alone. */
	assert_int_equal(decode(fr, WIRE_HEADER_LEN, &f), -EPROTO);
	assert_string_equal(wire_type_name((enum wire_type)0xff), "unknown");
}

static void
short_event_is_eproto(void **state)
{
	unsigned char fr[64], body[16] = { 0, 1 };
	struct wire_frame f;
	size_t n = raw_frame(fr, 1 + 16, WIRE_EVENT, body, 16);

	assert_int_equal(decode(fr, n, &f), -EPROTO);
}

static void
event_on_unknown_lane_is_eproto(void **state)
{
	unsigned char fr[64], body[17] = { WIRE_LANES, 1 };
	struct wire_frame f;
	size_t n = raw_frame(fr, 1 + 17, WIRE_EVENT, body, 17);

	assert_int_equal(decode(fr, n, &f), -EPROTO);
}

static void
event_with_seq_zero_is_eproto(void **state)
{
	unsigned char fr[64], body[19] = { WIRE_LANE_URGENT, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0,
		0, 0, 0, '{', '}' };
	struct wire_frame f;
	size_t n = raw_frame(fr, 1 + 19, WIRE_EVENT, body, 19);

	assert_int_equal(decode(fr, n, &f), -EPROTO);
}

static void
ack_of_wrong_size_is_eproto(void **state)
{
	unsigned char fr[64], body[10] = { WIRE_LANE_URGENT, 1 };
	struct wire_frame f;
	size_t n;

	n = raw_frame(fr, 1 + 8, WIRE_ACK, body, 8);
	assert_int_equal(decode(fr, n, &f), -EPROTO);
	n = raw_frame(fr, 1 + 10, WIRE_ACK, body, 10);
	assert_int_equal(decode(fr, n, &f), -EPROTO);
	body[0] = WIRE_LANES;
	n = raw_frame(fr, 1 + 9, WIRE_ACK, body, 9);
	assert_int_equal(decode(fr, n, &f), -EPROTO);
}

static void
command_without_id_is_eproto(void **state)
{
	unsigned char fr[64], body[7] = { 1 };
	struct wire_frame f;
	size_t n;

	n = raw_frame(fr, 1 + 7, WIRE_COMMAND, body, 7);
	assert_int_equal(decode(fr, n, &f), -EPROTO);
	n = raw_frame(fr, 1 + 7, WIRE_RESULT, body, 7);
	assert_int_equal(decode(fr, n, &f), -EPROTO);
	n = raw_frame(fr, 1, WIRE_COMMAND, NULL, 0);
	assert_int_equal(decode(fr, n, &f), -EPROTO);
}

static void
empty_json_body_is_eproto(void **state)
{
	static const enum wire_type types[] = { WIRE_ENROLL, WIRE_ENROLLED, WIRE_HELLO,
		WIRE_WELCOME, WIRE_HEARTBEAT, WIRE_ERROR };
	struct wire_frame f;
	unsigned char fr[8];
	struct buf b;

	buf_init(&b, 64);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t n = raw_frame(fr, 1, (uint8_t)types[i], NULL, 0);

		assert_int_equal(decode(fr, n, &f), -EPROTO);
		assert_int_equal(wire_put_json(&b, types[i], "", 0), -EINVAL);
	}
	buf_release(&b);
}

static void
put_respects_the_cap(void **state)
{
	struct buf b;

	/* Room for one 5 + 2 byte frame and no more: out is left as it was. */
	buf_init(&b, 10);
	assert_int_equal(wire_put_json(&b, WIRE_HELLO, "{}", 2), 0);
	assert_int_equal(wire_put_json(&b, WIRE_HELLO, "{}", 2), -E2BIG);
	assert_int_equal(b.len, 7);
	assert_int_equal(wire_put_event(&b, WIRE_LANE_URGENT, 1, 0, "{}", 2), -E2BIG);
	assert_int_equal(wire_put_ack(&b, WIRE_LANE_URGENT, 1), -E2BIG);
	assert_int_equal(wire_put_command(&b, WIRE_COMMAND, 1, "{}", 2), -E2BIG);
	assert_int_equal(b.len, 7);
	assert_int_equal(b.data[7], '\0');
	buf_release(&b);
}

static void
put_refuses_frames_over_the_maximum(void **state)
{
	size_t max_payload = WIRE_MAX_FRAME - 1 - WIRE_EVENT_HEADER_LEN;
	char *payload = xcalloc(1, max_payload + 1);
	struct wire_frame f;
	struct buf b;

	memset(payload, ' ', max_payload + 1);
	buf_init(&b, 2 * WIRE_MAX_FRAME);
	assert_int_equal(wire_put_event(&b, WIRE_LANE_BULK, 1, 0, payload, max_payload + 1), -E2BIG);
	assert_int_equal(b.len, 0);
	assert_int_equal(wire_put_event(&b, WIRE_LANE_BULK, 1, 0, payload, max_payload), 0);
	assert_int_equal(wire_decode(b.data, b.len, &f), (long)WIRE_MAX_FRAME + 4);
	assert_int_equal(f.body_len, max_payload);
	assert_int_equal(wire_put_json(&b, WIRE_HELLO, payload, WIRE_MAX_FRAME), -E2BIG);
	assert_int_equal(b.len, WIRE_MAX_FRAME + 4);
	buf_release(&b);
	free(payload);
}

static void
put_refuses_what_decode_would_refuse(void **state)
{
	struct buf b;

	buf_init(&b, 4096);
	assert_int_equal(wire_put_json(&b, WIRE_EVENT, "{}", 2), -EINVAL);
	assert_int_equal(wire_put_json(&b, WIRE_ACK, "{}", 2), -EINVAL);
	assert_int_equal(wire_put_event(&b, WIRE_LANES, 1, 0, "{}", 2), -EINVAL);
	assert_int_equal(wire_put_event(&b, WIRE_LANE_URGENT, 0, 0, "{}", 2), -EINVAL);
	assert_int_equal(wire_put_ack(&b, WIRE_LANES, 1), -EINVAL);
	assert_int_equal(wire_put_command(&b, WIRE_HELLO, 1, "{}", 2), -EINVAL);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_types_round_trip),
		cmocka_unit_test(event_round_trips),
		cmocka_unit_test(ack_round_trips),
		cmocka_unit_test(command_and_result_round_trip),
		cmocka_unit_test(every_prefix_needs_more),
		cmocka_unit_test(frames_back_to_back),
		cmocka_unit_test(zero_length_is_eproto),
		cmocka_unit_test(oversized_length_is_e2big_from_the_header),
		cmocka_unit_test(unknown_type_is_eproto),
		cmocka_unit_test(short_event_is_eproto),
		cmocka_unit_test(event_on_unknown_lane_is_eproto),
		cmocka_unit_test(event_with_seq_zero_is_eproto),
		cmocka_unit_test(ack_of_wrong_size_is_eproto),
		cmocka_unit_test(command_without_id_is_eproto),
		cmocka_unit_test(empty_json_body_is_eproto),
		cmocka_unit_test(put_respects_the_cap),
		cmocka_unit_test(put_refuses_frames_over_the_maximum),
		cmocka_unit_test(put_refuses_what_decode_would_refuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
