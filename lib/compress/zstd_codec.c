/* zstd_codec.c - streaming zstd with a write callback, an output cap and errno errors. */
#include "compress/zstd_codec.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>
#include <zstd_errors.h>

#include "core/xalloc.h"
#include "core/banned.h"

/* 16 MiB: every level up to ZSTD_CODEC_LEVEL_MAX uses a smaller window, and a
 * crafted frame cannot make one decoder allocate more. */
#define ZSTD_CODEC_WINDOWLOG_MAX	24

struct zstd_enc {
	ZSTD_CCtx	*cctx;
	uint8_t		*out;
	size_t		 out_cap, out_pos;	/* output held back until full or finish */
	int		 err;			/* sticky */
};

struct zstd_dec {
	ZSTD_DCtx	*dctx;
	uint8_t		*out;
	size_t		 out_cap;
	uint64_t	 max_out, total;
	bool		 frame_done;		/* input so far ends on a frame boundary */
	int		 err;			/* sticky */
};

/* Context allocation fails only when memory is gone: abort, as xmalloc does. */
static void
zstd_die(const char *what)
{
	static const char prefix[] = "yingji: zstd: cannot set up ";

	(void)!write(2, prefix, sizeof(prefix) - 1);
	(void)!write(2, what, strlen(what));
	(void)!write(2, "\n", 1);
	abort();
}

static int
zstd_enc_errno(size_t z)
{
	if (ZSTD_getErrorCode(z) == ZSTD_error_memory_allocation)
		return -ENOMEM;
	return -EIO;
}

static int
zstd_dec_errno(size_t z)
{
	if (ZSTD_getErrorCode(z) == ZSTD_error_memory_allocation)
		return -ENOMEM;
	return -EBADMSG;
}

int
zstd_enc_new(int level, struct zstd_enc **ret)
{
	struct zstd_enc *e = NULL;
	size_t z;

	if (level < ZSTD_minCLevel() || level > ZSTD_CODEC_LEVEL_MAX)
		return -EINVAL;
	e = xcalloc(1, sizeof(*e));
	e->cctx = ZSTD_createCCtx();
	if (e->cctx == NULL)
		zstd_die("ZSTD_createCCtx");
	z = ZSTD_CCtx_setParameter(e->cctx, ZSTD_c_compressionLevel, level);
	if (ZSTD_isError(z)) {
		zstd_enc_free(e);
		return -EINVAL;
	}
	e->out_cap = ZSTD_CStreamOutSize();
	e->out = xmalloc(e->out_cap);
	*ret = e;
	return 0;
}

void
zstd_enc_free(struct zstd_enc *e)
{
	if (e == NULL)
		return;
	ZSTD_freeCCtx(e->cctx);
	free(e->out);
	free(e);
}

void
zstd_enc_reset(struct zstd_enc *e)
{
	ZSTD_CCtx_reset(e->cctx, ZSTD_reset_session_only);
	e->out_pos = 0;
	e->err = 0;
}

static int
zstd_enc_flush(struct zstd_enc *e, zstd_write_cb *cb, void *cbdata)
{
	int r;

	if (e->out_pos == 0)
		return 0;
	r = cb(cbdata, e->out, e->out_pos);
	if (r < 0)
		return r;
	e->out_pos = 0;
	return 0;
}

/* One loop for both: ZSTD_e_continue until the input is taken, ZSTD_e_end
 * until zstd reports nothing left to flush. */
static int
zstd_enc_run(struct zstd_enc *e, const void *in, size_t n, ZSTD_EndDirective mode,
		zstd_write_cb *cb, void *cbdata)
{
	ZSTD_inBuffer ib = { in, n, 0 };
	int r;

	if (e->err < 0)
		return e->err;
	for (;;) {
		ZSTD_outBuffer ob = { e->out, e->out_cap, e->out_pos };
		size_t z;

		z = ZSTD_compressStream2(e->cctx, &ob, &ib, mode);
		if (ZSTD_isError(z)) {
			r = zstd_enc_errno(z);
			goto out;
		}
		e->out_pos = ob.pos;
		if (e->out_pos == e->out_cap || (mode == ZSTD_e_end && z == 0)) {
			r = zstd_enc_flush(e, cb, cbdata);
			if (r < 0)
				goto out;
		}
		if (mode == ZSTD_e_end ? z == 0 : ib.pos == ib.size)
			break;
	}
	r = 0;
out:
	if (r < 0)
		e->err = r;
	return r;
}

int
zstd_enc_feed(struct zstd_enc *e, const void *in, size_t n, zstd_write_cb *cb, void *cbdata)
{
	if (n == 0)
		return e->err;
	return zstd_enc_run(e, in, n, ZSTD_e_continue, cb, cbdata);
}

int
zstd_enc_finish(struct zstd_enc *e, zstd_write_cb *cb, void *cbdata)
{
	return zstd_enc_run(e, NULL, 0, ZSTD_e_end, cb, cbdata);
}

struct zstd_dec *
zstd_dec_new(uint64_t max_out)
{
	struct zstd_dec *d = xcalloc(1, sizeof(*d));
	size_t z;

	d->dctx = ZSTD_createDCtx();
	if (d->dctx == NULL)
		zstd_die("ZSTD_createDCtx");
	z = ZSTD_DCtx_setParameter(d->dctx, ZSTD_d_windowLogMax, ZSTD_CODEC_WINDOWLOG_MAX);
	if (ZSTD_isError(z))
		zstd_die("ZSTD_d_windowLogMax");
	d->out_cap = ZSTD_DStreamOutSize();
	d->out = xmalloc(d->out_cap);
	d->max_out = max_out;
	return d;
}

void
zstd_dec_free(struct zstd_dec *d)
{
	if (d == NULL)
		return;
	ZSTD_freeDCtx(d->dctx);
	free(d->out);
	free(d);
}

void
zstd_dec_reset(struct zstd_dec *d)
{
	ZSTD_DCtx_reset(d->dctx, ZSTD_reset_session_only);
	d->total = 0;
	d->frame_done = false;
	d->err = 0;
}

int
zstd_dec_feed(struct zstd_dec *d, const void *in, size_t n, zstd_write_cb *cb, void *cbdata)
{
	ZSTD_inBuffer ib = { in, n, 0 };
	int r;

	if (d->err < 0)
		return d->err;
	/* A full output buffer may leave more inside zstd even when all the
	 * input is taken, so go round until a call leaves room to spare. */
	while (ib.pos < ib.size) {
		ZSTD_outBuffer ob;
		size_t z;

		do {
			size_t in_before = ib.pos;

			ob = (ZSTD_outBuffer){ d->out, d->out_cap, 0 };
			z = ZSTD_decompressStream(d->dctx, &ob, &ib);
			if (ZSTD_isError(z)) {
				r = zstd_dec_errno(z);
				goto out;
			}
			/* A call that did nothing (the flush check after a frame
			 * ended on a full buffer) says "want a new frame", which
			 * is not news about the input. */
			if (ib.pos != in_before || ob.pos > 0)
				d->frame_done = z == 0;
			if (ob.pos == 0)
				continue;
			if (ob.pos > d->max_out - d->total) {
				r = -EFBIG;
				goto out;
			}
			d->total += ob.pos;
			r = cb(cbdata, d->out, ob.pos);
			if (r < 0)
				goto out;
		} while (ob.pos == ob.size);
	}
	r = 0;
out:
	if (r < 0)
		d->err = r;
	return r;
}

int
zstd_dec_finish(struct zstd_dec *d)
{
	if (d->err < 0)
		return d->err;
	if (!d->frame_done)
		d->err = -EBADMSG;
	return d->err;
}

uint64_t
zstd_dec_total(const struct zstd_dec *d)
{
	return d->total;
}
