/*
 * cmd_respond.c - `yingji respond block|isolate|offline|quarantine|kill|
 * lock-account ... --agent ID [--for T] [--dry-run]`, `respond list [--json]`,
 * `respond undo ID`, `respond approve ID --as MEMBER`: first-response
 * actions through the HTTP API (/api/v1/responses).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/i18n.h"
#include "core/json.h"
#include "core/json_get.h"
#include "core/banned.h"

static void
respond_help(FILE *out)
{
	fprintf(out, "%s", L(
		"用法: yingji respond block --agent ID --addr 地址或网段 [--for 时长] [--dry-run] [--as 成员]\n"
		"      yingji respond isolate --agent ID [--for 时长] [--dry-run] [--as 成员]\n"
		"      yingji respond offline --agent ID --unit 服务名.service [--dry-run]\n"
		"      yingji respond quarantine --agent ID --path 绝对路径 [--dry-run]\n"
		"      yingji respond kill --agent ID --pid 进程号 [--dry-run]\n"
		"      yingji respond lock-account --agent ID --user 用户名 [--dry-run]\n"
		"      yingji respond list [--agent ID] [--json]\n"
		"      yingji respond undo ID [--as 成员]\n"
		"      yingji respond approve ID --as 成员\n"
		"\n"
		"先期处置动作，由代理的响应模块（唯一以 root 执行的部分）执行，结果回报中心：\n"
		"  block         封禁地址或网段（入站和出站，nftables 中 Yingji 专用的表 inet yingji）；\n"
		"                不给 --for 时默认 1 小时，同一地址再次被封时时长加倍（最长 30 天）\n"
		"  isolate       隔离主机：除与中心服务器的通道和白名单地址外，切断全部流量（断网）\n"
		"  offline       停止网站服务（systemd 单元），换上维护页\n"
		"  quarantine    把文件移入隔离区（留作证据，从不删除）\n"
		"  kill          结束进程及其子进程，并记录其程序和命令行\n"
		"  lock-account  锁定本机账号并结束其会话\n"
		"每个动作都进入台账：pending（待执行；代理离线时等其上线）、applied（已生效）、\n"
		"failed（失败及原因）、undone（已撤销）、expired（已到期）。代理重启后仍生效的动作\n"
		"会重新施加。中心服务器的地址、回环地址和白名单不会被封；0.0.0.0/0 永不允许。\n"
		"--dry-run 只让代理说出将要执行的确切命令，不做改动。--as 成员：按预案检查其角色\n"
		"（需有 approve 权限）；不给时以管理员令牌持有人的名义。预案规定须批准的自动动作\n"
		"处于等待批准状态，由批准人执行 approve 后下发。\n"
		"--json：list 每行一个对象，含 id、action、agent、state、target、expires_at、result。\n"
		"退出码：0 成功；1 被拒绝或出错；2 用法错误。\n",
		"Usage: yingji respond block --agent ID --addr ADDR|CIDR [--for T] [--dry-run] [--as MEMBER]\n"
		"       yingji respond isolate --agent ID [--for T] [--dry-run] [--as MEMBER]\n"
		"       yingji respond offline --agent ID --unit NAME.service [--dry-run]\n"
		"       yingji respond quarantine --agent ID --path ABSOLUTE_PATH [--dry-run]\n"
		"       yingji respond kill --agent ID --pid PID [--dry-run]\n"
		"       yingji respond lock-account --agent ID --user NAME [--dry-run]\n"
		"       yingji respond list [--agent ID] [--json]\n"
		"       yingji respond undo ID [--as MEMBER]\n"
		"       yingji respond approve ID --as MEMBER\n"
		"\n"
		"First-response actions, carried out by the agent's responder (the only part that acts\n"
		"as root) and reported back to the centre:\n"
		"  block         block an address or range, inbound and outbound (nftables, in Yingji's\n"
		"                own table inet yingji); 1 h without --for, doubled for each earlier block\n"
		"                of the same address (at most 30 d)\n"
		"  isolate       cut the host off except the channel to the centre and allowed addresses\n"
		"  offline       stop the site's service (a systemd unit)\n"
		"  quarantine    move a file into quarantine (kept as evidence, never deleted)\n"
		"  kill          kill a process and its children, recording what it was\n"
		"  lock-account  lock a local account and end its sessions\n"
		"Every action is in the ledger: pending (waits for an offline agent), applied, failed\n"
		"(with the reason), undone, expired. Active actions are re-applied after an agent\n"
		"restart. The centre's address, loopback and the allow list are never blocked;\n"
		"0.0.0.0/0 never. --dry-run asks the agent for exactly what it would run, changing\n"
		"nothing. --as MEMBER: the plan's roles are checked (approve); without it the admin\n"
		"token holder acts. Automatic actions the plan says need approval wait until an\n"
		"approver runs approve.\n"
		"--json: list prints one object per line with id, action, agent, state, target,\n"
		"expires_at, result.\n"
		"Exit: 0 done; 1 refused or failed; 2 usage.\n"));
}

static int
parse_pos(const char *s, long long *ret)
{
	char *end;

	errno = 0;
	*ret = strtoll(s, &end, 10);
	return *s == '\0' || *end != '\0' || errno != 0 || *ret <= 0 ? -EINVAL : 0;
}

static void
print_row(const char *obj, size_t len)
{
	cli_print_field(obj, len, "id", 6);
	putchar(' ');
	cli_print_field(obj, len, "action", 13);
	putchar(' ');
	cli_print_field(obj, len, "agent", 6);
	putchar(' ');
	cli_print_field(obj, len, "state", 8);
	putchar(' ');
	cli_print_field(obj, len, "expires_at", 36);
	putchar(' ');
	cli_print_field(obj, len, "target", 0);
	putchar('\n');
}

static int
list(struct api_client *c, long long agent, bool json)
{
	char params[64] = "";

	if (!json) {
		cli_pad(L("编号", "ID"), 6);
		putchar(' ');
		cli_pad(L("动作", "ACTION"), 13);
		putchar(' ');
		cli_pad(L("代理", "AGENT"), 6);
		putchar(' ');
		cli_pad(L("状态", "STATE"), 8);
		putchar(' ');
		cli_pad(L("到期", "EXPIRES"), 36);
		printf(" %s\n", L("目标", "TARGET"));
	}
	if (agent > 0)
		snprintf(params, sizeof(params), "&agent=%lld", agent);
	return cli_lines(c, "/api/v1/responses", params, json, print_row) < 0 ? 1 : 0;
}

/* What the centre answered: the row, or for a dry run the agent's answer. */
static void
print_answer(const char *body, size_t len, bool json, bool dry)
{
	struct buf st, note, detail;
	const char *res;
	size_t reslen;

	if (json) {
		fwrite(body, 1, len, stdout);
		return;
	}
	buf_init(&st, 64);
	buf_init(&note, 4096);
	buf_init(&detail, 64 * 1024);
	if (dry) {
		if (json_get_raw(body, len, "result", &res, &reslen) == 0) {
			(void)json_get_str(res, reslen, "detail", &detail);
			(void)json_get_str(res, reslen, "error", &note);
		}
		printf("%s\n%s\n", L("演练（不做改动），代理将执行：", "dry run (nothing changed); the agent would run:"),
			detail.len > 0 ? detail.data : note.data);
	} else {
		print_row(body, len);
		(void)json_get_str(body, len, "note", &note);
		if (note.len > 0)
			printf("  %s\n", note.data);
		if (json_get_raw(body, len, "result", &res, &reslen) == 0 &&
			json_get_str(res, reslen, "error", &note) == 0 && note.len > 0)
			printf("  %s: %s\n", L("原因", "reason"), note.data);
	}
	buf_release(&st);
	buf_release(&note);
	buf_release(&detail);
}

int
cmd_respond(int argc, char **argv)
{
	static const char *const targets[] = { "addr", "unit", "path", "user" };
	struct api_client c;
	struct buf req, body;
	struct json j;
	const char *sub, *as = NULL, *forv = NULL, *val[4] = { NULL };
	long long agent = 0, pid = 0, id = 0;
	bool dry = false, json = false;
	int r = 2;

	if (argc < 2) {
		respond_help(stderr);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			respond_help(stdout);
			return 0;
		}
	sub = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool known = false;

		if (strcmp(o, "--dry-run") == 0) {
			dry = true;
			continue;
		}
		if (strcmp(o, "--json") == 0) {
			json = true;
			continue;
		}
		if (strncmp(o, "--", 2) != 0) {
			if (id != 0 || parse_pos(o, &id) < 0)
				goto usage;
			continue;
		}
		if (v == NULL)
			goto usage;
		i++;
		if (strcmp(o, "--agent") == 0)
			known = parse_pos(v, &agent) == 0;
		else if (strcmp(o, "--pid") == 0)
			known = parse_pos(v, &pid) == 0;
		else if (strcmp(o, "--as") == 0)
			known = (as = v) != NULL;
		else if (strcmp(o, "--for") == 0)
			known = (forv = v) != NULL;
		for (size_t k = 0; k < 4; k++)
			if (strcmp(o + 2, targets[k]) == 0)
				known = (val[k] = v) != NULL;
		if (!known)
			goto usage;
	}
	if (strcmp(sub, "list") == 0) {
		if (cli_client(&c) < 0)
			return 1;
		return list(&c, agent, json);
	}
	buf_init(&req, 64 * 1024);
	buf_init(&body, API_MAX_RESPONSE_BODY);
	json_begin(&j, &req);
	if (as != NULL)
		json_key_str(&j, "actor", as);
	if (strcmp(sub, "undo") == 0 || strcmp(sub, "approve") == 0) {
		char target[96];

		if (id == 0) {
			fprintf(stderr, "yingji: %s\n", L("需要处置编号", "needs a response id"));
			goto out;
		}
		(void)json_end(&j);
		if (cli_client(&c) < 0) {
			r = 1;
			goto out;
		}
		snprintf(target, sizeof(target), "/api/v1/responses/%lld/%s", id, sub);
		r = cli_call(&c, "POST", target, req.data, 30000, &body) < 0 ? 1 : 0;
		if (r == 0)
			print_answer(body.data, body.len, json, false);
		goto out;
	}
	if (agent == 0) {
		fprintf(stderr, "yingji: %s\n", L("需要 --agent ID", "needs --agent ID"));
		goto out;
	}
	json_key_str(&j, "action", strcmp(sub, "lock-account") == 0 ? "lock_account" : sub);
	json_key_i64(&j, "agent", agent);
	for (size_t k = 0; k < 4; k++)
		if (val[k] != NULL)
			json_key_str(&j, targets[k], val[k]);
	if (pid > 0)
		json_key_i64(&j, "pid", pid);
	if (forv != NULL)
		json_key_str(&j, "for", forv);
	if (dry)
		json_key_bool(&j, "dry_run", true);
	if (json_end(&j) < 0)
		goto out;
	if (cli_client(&c) < 0) {
		r = 1;
		goto out;
	}
	r = cli_call(&c, "POST", "/api/v1/responses", req.data, 60000, &body) < 0 ? 1 : 0;
	if (r == 0)
		print_answer(body.data, body.len, json, dry);
out:
	buf_release(&req);
	buf_release(&body);
	return r;
usage:
	respond_help(stderr);
	return 2;
}
