/*
 * fuzz_wire.c - libFuzzer target: the frame decoder on arbitrary bytes must
 * never crash or read past the input, and every frame it accepts must encode
 * back to the same bytes and decode to the same fields.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "proto/wire.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
encode(struct buf *out, const struct wire_frame *f)
{
	switch (f->type) {
	case WIRE_EVENT:
		return wire_put_event(out, f->lane, f->seq, f->time_ns, f->body, f->body_len);
	case WIRE_ACK:
		return wire_put_ack(out, f->lane, f->seq);
	case WIRE_COMMAND:
	case WIRE_RESULT:
		return wire_put_command(out, f->type, f->id, f->body, f->body_len);
	default:
		return wire_put_json(out, f->type, f->body, f->body_len);
	}
}

static void
check_frame(const uint8_t *frame, long n, const struct wire_frame *f)
{
	struct wire_frame g;
	struct buf out;
	long m;

	if (f->body < (const char *)frame || f->body_len > (size_t)n ||
		f->body + f->body_len > (const char *)frame + n)
		abort();
	if (wire_type_name(f->type) == NULL || strcmp(wire_type_name(f->type), "unknown") == 0)
		abort();

	buf_init(&out, 2 * WIRE_MAX_FRAME);
	if (encode(&out, f) != 0)
		abort();
	/* The encoding is canonical: the same bytes come back. */
	if (out.len != (size_t)n || memcmp(out.data, frame, out.len) != 0)
		abort();
	m = wire_decode(out.data, out.len, &g);
	if (m != n || g.type != f->type || g.body_len != f->body_len ||
		memcmp(g.body, f->body, f->body_len) != 0)
		abort();
	if ((f->type == WIRE_EVENT || f->type == WIRE_ACK) && (g.lane != f->lane || g.seq != f->seq))
		abort();
	if (f->type == WIRE_EVENT && g.time_ns != f->time_ns)
		abort();
	if ((f->type == WIRE_COMMAND || f->type == WIRE_RESULT) && g.id != f->id)
		abort();
	buf_release(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off < size) {
		struct wire_frame f;
		long n = wire_decode(data + off, size - off, &f);

		if (n <= 0)
			break;
		if ((size_t)n > size - off || n < WIRE_HEADER_LEN)
			abort();
		check_frame(data + off, n, &f);
		off += (size_t)n;
	}
	return 0;
}
