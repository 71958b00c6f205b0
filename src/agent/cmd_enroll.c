/*
 * cmd_enroll.c - `yingji-agent enroll --state DIR --server HOST:PORT --token
 * TOKEN [--name NAME]`: join a centre. The token carries the fingerprint of
 * the centre's certificate, so the agent knows it talks to the right server
 * before it has the CA; it sends a CSR and gets its certificate. From then
 * on `run` streams events to the centre over mutual TLS.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/commands.h"
#include "agent/state.h"
#include "agent/transport/channel.h"
#include "agent/transport/enrollment.h"
#include "core/i18n.h"
#include "core/json.h"
#include "core/json_get.h"
#include "proto/token.h"
#include "proto/wire.h"
#include "tls/pki.h"
#include "core/banned.h"

#define ENROLL_TIMEOUT_MS	30000

static void
enroll_help(FILE *out)
{
	fprintf(out, "%s", L(
		"用法: yingji-agent enroll --state DIR --server 主机:端口 --token 令牌 [--name 名称]\n"
		"\n"
		"向中心服务登记本代理。令牌由中心的 `yingji token create` 生成，一次有效，含中心\n"
		"证书的指纹：代理据此核验服务器，再提交证书签名请求并取得自己的证书（保存在\n"
		"DIR/tls/，私钥仅 root 可读）。此后 `yingji-agent run --state DIR ...` 通过双向\n"
		"TLS 1.3 把事件实时送往中心，中心确认存储后才从本地日志中删除。\n"
		"\n"
		"  --state DIR         代理的状态目录（与 run 相同）\n"
		"  --server 主机:端口  中心的代理端口（默认 8641）\n"
		"  --token 令牌        一次性登记令牌\n"
		"  --name 名称         在中心显示的名称（默认本机主机名）\n",
		"Usage: yingji-agent enroll --state DIR --server HOST:PORT --token TOKEN [--name NAME]\n"
		"\n"
		"Enroll this agent with a centre. The token comes from `yingji token create` on\n"
		"the centre, works once, and carries the fingerprint of the centre's certificate:\n"
		"the agent checks the server by it, sends a certificate request and gets its own\n"
		"certificate (kept in DIR/tls/, the key root-only). From then on `yingji-agent\n"
		"run --state DIR ...` streams events to the centre over mutual TLS 1.3; a record\n"
		"leaves the local journal only once the centre has stored it.\n"
		"\n"
		"  --state DIR         the agent's state directory (as for run)\n"
		"  --server HOST:PORT  the centre's agent port (8641 by default)\n"
		"  --token TOKEN       the one-time enrollment token\n"
		"  --name NAME         the name shown at the centre (default: the host name)\n"));
}

int
cmd_enroll(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "server", required_argument, NULL, 'S' },
		{ "token", required_argument, NULL, 't' },
		{ "name", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *state = NULL, *server = NULL, *token = NULL;
	char name[128] = "", host[256], port[16];
	uint8_t fp[TOKEN_FP_LEN], secret[TOKEN_SECRET_LEN];
	struct buf csr, key, req, cert, ca, code, msg;
	struct tls_ctx *ctx = NULL;
	struct channel ch = { .fd = -1 };
	struct wire_frame f;
	struct json j;
	int64_t agent = 0;
	int statefd = -1, opt, r;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			state = optarg;
			break;
		case 'S':
			server = optarg;
			break;
		case 't':
			token = optarg;
			break;
		case 'n':
			snprintf(name, sizeof(name), "%s", optarg);
			break;
		case 'h':
			enroll_help(stdout);
			return 0;
		default:
			enroll_help(stderr);
			return 2;
		}
	}
	if (state == NULL || server == NULL || token == NULL || optind < argc) {
		enroll_help(stderr);
		return 2;
	}
	if (token_parse(token, fp, secret) < 0) {
		fprintf(stderr, "yingji-agent enroll: %s\n", L("令牌格式无效",
			"malformed token"));
		return 2;
	}
	explicit_bzero(secret, sizeof(secret));
	if (hostport_split(server, host, sizeof(host), port, sizeof(port)) < 0) {
		fprintf(stderr, "yingji-agent enroll: %s '%s'\n", L("服务器地址无效（应为 主机:端口）",
			"bad server address (want HOST:PORT)"), server);
		return 2;
	}
	if (name[0] == '\0' && gethostname(name, sizeof(name) - 1) < 0)
		snprintf(name, sizeof(name), "agent");

	buf_init(&csr, PKI_MAX_PEM);
	buf_init(&key, PKI_MAX_PEM);
	buf_init(&req, 4 * PKI_MAX_PEM);
	buf_init(&cert, PKI_MAX_PEM);
	buf_init(&ca, PKI_MAX_PEM);
	buf_init(&code, 128);
	buf_init(&msg, 1024);
	r = state_open(state, true, &statefd);
	if (r < 0) {
		fprintf(stderr, "yingji-agent enroll: %s: %s\n", state, strerror(-r));
		goto out;
	}
	r = pki_csr_create(name, &csr, &key);
	if (r < 0) {
		fprintf(stderr, "yingji-agent enroll: %s: %s\n", L("无法生成密钥", "cannot make a key"),
			pki_last_error());
		goto out;
	}
	r = tls_ctx_client_new(NULL, fp, NULL, NULL, &ctx);
	if (r == 0)
		r = channel_open(&ch, ctx, server, ENROLL_TIMEOUT_MS);
	if (r < 0) {
		fprintf(stderr, "yingji-agent enroll: %s\n", ch.error[0] ? ch.error : strerror(-r));
		goto out;
	}
	json_begin(&j, &req);
	json_key_str(&j, "token", token);
	json_key_str(&j, "csr", csr.data);
	json_key_str(&j, "name", name);
	r = json_end(&j);
	if (r == 0)
		r = wire_put_json(&ch.out, WIRE_ENROLL, req.data, req.len);
	if (r == 0)
		r = channel_roundtrip(&ch, ENROLL_TIMEOUT_MS, &f);
	if (r < 0) {
		fprintf(stderr, "yingji-agent enroll: %s\n", ch.error[0] ? ch.error : strerror(-r));
		goto out;
	}
	if (f.type == WIRE_ERROR) {
		(void)json_get_str(f.body, f.body_len, "message", &msg);
		fprintf(stderr, "yingji-agent enroll: %s: %s\n", L("中心拒绝登记", "the centre refused"),
			msg.data);
		r = -EACCES;
		goto out;
	}
	if (f.type != WIRE_ENROLLED || json_get_i64(f.body, f.body_len, "agent", &agent) < 0 ||
		json_get_str(f.body, f.body_len, "cert", &cert) < 0 ||
		json_get_str(f.body, f.body_len, "ca", &ca) < 0 || agent <= 0) {
		fprintf(stderr, "yingji-agent enroll: %s\n", L("中心的答复无效", "bad answer from the centre"));
		r = -EPROTO;
		goto out;
	}
	r = enrollment_save(statefd, server, agent, name, key.data, cert.data, ca.data);
	if (r < 0) {
		fprintf(stderr, "yingji-agent enroll: %s: %s\n", L("无法保存证书", "cannot save the "
			"certificate"), strerror(-r));
		goto out;
	}
	printf("%s %lld (%s) @ %s\n", L("已登记为代理", "enrolled as agent"), (long long)agent, name,
		server);
	r = 0;
out:
	channel_close(&ch);
	tls_ctx_free(ctx);
	explicit_bzero(key.data, key.len);
	explicit_bzero(req.data, req.len);	/* it held the token */
	buf_release(&csr);
	buf_release(&key);
	buf_release(&req);
	buf_release(&cert);
	buf_release(&ca);
	buf_release(&code);
	buf_release(&msg);
	if (statefd >= 0)
		close(statefd);
	return r < 0 ? 1 : 0;
}
