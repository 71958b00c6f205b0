/* cmd_token.c - `yingji token create [--ttl T] [--json]`. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/i18n.h"
#include "core/json_get.h"
#include "core/banned.h"

static void
token_help(FILE *out)
{
	fprintf(out, "%s", L(
		"用法: yingji token create [--ttl 时长] [--json]\n"
		"\n"
		"生成一个一次性的代理登记令牌，最后一行只有令牌本身。令牌含中心服务器证书的\n"
		"指纹，代理登记时据此核验服务器：\n"
		"  yingji-agent enroll --state DIR --server 主机:8641 --token 令牌\n"
		"\n"
		"  --ttl 时长   有效期（如 30m、1h、7d；默认为服务器的 token_ttl，1h）\n"
		"  --json       输出 {\"token\",\"expires\"}\n",
		"Usage: yingji token create [--ttl T] [--json]\n"
		"\n"
		"Create a one-time agent enrollment token, printed alone on the last line. It\n"
		"carries the fingerprint of the centre's certificate, which the agent checks:\n"
		"  yingji-agent enroll --state DIR --server HOST:8641 --token TOKEN\n"
		"\n"
		"  --ttl T      lifetime (e.g. 30m, 1h, 7d; default the server's token_ttl, 1h)\n"
		"  --json       print {\"token\",\"expires\"}\n"));
}

int
cmd_token(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ttl", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct api_client c;
	struct buf body, token, expires;
	char req[128] = "{}";
	bool json = false;
	int opt, r;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		token_help(stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "create") != 0) {
		token_help(stderr);
		return 2;
	}
	optind = 1;
	while ((opt = getopt_long(argc - 1, argv + 1, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 't':
			if (strlen(optarg) > 32 || strpbrk(optarg, "\"\\") != NULL) {
				fprintf(stderr, "yingji token: %s\n", L("有效期无效", "bad --ttl"));
				return 2;
			}
			snprintf(req, sizeof(req), "{\"ttl\":\"%s\"}", optarg);
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			token_help(stdout);
			return 0;
		default:
			token_help(stderr);
			return 2;
		}
	}
	if (cli_client(&c) < 0)
		return 1;
	buf_init(&body, 1 << 20);
	buf_init(&token, 256);
	buf_init(&expires, 64);
	r = cli_call(&c, "POST", "/api/v1/tokens", req, 30000, &body);
	if (r == 0 && (json_get_str(body.data, body.len, "token", &token) < 0 ||
		json_get_str(body.data, body.len, "expires", &expires) < 0)) {
		fprintf(stderr, "yingji: %s\n", L("服务器答复无效", "bad answer from the server"));
		r = -EPROTO;
	}
	if (r == 0) {
		if (json)
			printf("%s", body.data);
		else
			printf("%s %s\n%s\n", L("一次性登记令牌，有效至", "One-time enrollment token, valid "
				"until"), expires.data, token.data);
	}
	explicit_bzero(body.data, body.len);
	explicit_bzero(token.data, token.len);
	buf_release(&body);
	buf_release(&token);
	buf_release(&expires);
	return r < 0 ? 1 : 0;
}
