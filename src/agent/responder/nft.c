/*
 * nft.c - libnftables, one context per batch (nft.h). The only includer of
 * <nftables/libnftables.h>.
 */
#include "agent/responder/nft.h"

#include <errno.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "core/banned.h"

int
nft_run(const char *cmds, struct buf *out, struct buf *err)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	const char *text;
	int r = 0;

	if (ctx == NULL) {
		(void)buf_puts(err, "cannot make an nftables context");
		return -ENOMEM;
	}
	(void)nft_ctx_buffer_output(ctx);
	(void)nft_ctx_buffer_error(ctx);
	if (nft_run_cmd_from_buffer(ctx, cmds) != 0) {
		text = nft_ctx_get_error_buffer(ctx);
		(void)buf_puts(err, text != NULL && text[0] != '\0' ? text :
			"nftables refused the commands (is nf_tables in the kernel?)");
		while (err->len > 0 && (err->data[err->len - 1] == '\n'))
			err->data[--err->len] = '\0';
		r = -EIO;
	} else if (out != NULL && (text = nft_ctx_get_output_buffer(ctx)) != NULL) {
		(void)buf_puts(out, text);
	}
	nft_ctx_free(ctx);
	return r;
}
