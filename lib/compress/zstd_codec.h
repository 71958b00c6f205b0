/*
 * zstd_codec.h - streaming zstd compression and decompression. This directory
 * is the only place that includes <zstd.h> and <zstd_errors.h>.
 *
 * Both directions push their output through a write callback in chunks of up
 * to about 128 KiB; a callback returns 0 or a negative errno, which stops the
 * stream and is returned to the caller. Any error is sticky: every later call
 * returns it again until *_reset(). Out of memory aborts, as with xmalloc.
 *
 * The decoder is for untrusted input: it stops with -EFBIG before passing on
 * more than max_out bytes in total (a zip bomb costs nothing), refuses frames
 * that would need a window above 16 MiB, and reports a corrupt or truncated
 * stream as -EBADMSG.
 */
#ifndef YINGJI_ZSTD_CODEC_H
#define YINGJI_ZSTD_CODEC_H

#include <stddef.h>
#include <stdint.h>

#define ZSTD_CODEC_LEVEL_DEFAULT	3
#define ZSTD_CODEC_LEVEL_MAX		19	/* above this the decoder's window cap refuses frames */

/* Receives output; returns 0 or a negative errno to abort the stream. */
typedef int zstd_write_cb(void *cbdata, const void *p, size_t n);

struct zstd_enc;

/* level: ZSTD_CODEC_LEVEL_DEFAULT, or from zstd's fastest (negative) level to
 * ZSTD_CODEC_LEVEL_MAX; -EINVAL otherwise. */
int	 zstd_enc_new(int level, struct zstd_enc **ret);
void	 zstd_enc_free(struct zstd_enc *e);	/* accepts NULL */
/* Compress n bytes of the current frame; output may be held back until a
 * buffer fills or zstd_enc_finish(). */
int	 zstd_enc_feed(struct zstd_enc *e, const void *in, size_t n, zstd_write_cb *cb,
		void *cbdata);
/* End the frame and write everything still held; e is then ready for the next frame. */
int	 zstd_enc_finish(struct zstd_enc *e, zstd_write_cb *cb, void *cbdata);
/* Drop the current frame and any sticky error. */
void	 zstd_enc_reset(struct zstd_enc *e);

struct zstd_dec;

struct zstd_dec *zstd_dec_new(uint64_t max_out);
void	 zstd_dec_free(struct zstd_dec *d);	/* accepts NULL */
/* Decompress n more bytes of input (one or more concatenated frames). */
int	 zstd_dec_feed(struct zstd_dec *d, const void *in, size_t n, zstd_write_cb *cb,
		void *cbdata);
/* The input has ended: 0 if it ended right after a complete frame, -EBADMSG
 * if it was empty or stopped inside a frame. */
int	 zstd_dec_finish(struct zstd_dec *d);
/* Start over with no input seen and a total of 0. */
void	 zstd_dec_reset(struct zstd_dec *d);
uint64_t zstd_dec_total(const struct zstd_dec *d);	/* bytes passed to the callback */

#endif
