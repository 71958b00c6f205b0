#!/usr/bin/env bash
# `make run`: the centre (yingji serve, SQLite under ./demo/centre) and a local
# agent enrolled with it, guarding a demo portal under ./demo; a live
# demonstration of a tamper being undone and arriving at the centre, then
# running until Ctrl-C.
# DEMO_SECONDS=N stops it after N seconds (for unattended runs).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
agent="$top/build/bin/yingji-agent"
yingji="$top/build/bin/yingji"
demo="$top/demo"
site="$demo/site"
state="$demo/state"
centre="$demo/centre"

if [ "$(id -u)" -ne 0 ]; then
	echo "yingji: the agent guards files of any owner and uses fanotify: run as root" >&2
	exit 1
fi

if [ ! -d "$site" ]; then
	mkdir -p "$site/news" "$site/css" "$site/notice"
	cat >"$site/index.html" <<'HTML'
<!DOCTYPE html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>某县司法局 门户网站</title>
<link rel="stylesheet" href="css/site.css"></head>
<body>
<h1>某县司法局</h1>
<ul>
<li><a href="news/2026-11-01.html">关于开展网络与信息安全应急演练的通知</a></li>
<li><a href="notice/plan.html">网络与信息安全应急预案</a></li>
</ul>
</body>
</html>
HTML
	echo 'body { font-family: "Noto Sans CJK SC", sans-serif; margin: 2em; }' >"$site/css/site.css"
	echo '<h2>关于开展网络与信息安全应急演练的通知</h2><p>各科室: 定于本月开展应急演练。</p>' \
		>"$site/news/2026-11-01.html"
	echo '<h2>网络与信息安全应急预案</h2><p>早发现、早报告、早处置。</p>' >"$site/notice/plan.html"
fi

# The centre on loopback ports of its own (8640 API, 8641 agents by default).
# The demo plan (scripts/demo-plan.yaml) turns what happens into incidents.
"$yingji" serve --data "$centre" --agents 127.0.0.1:${DEMO_AGENTS_PORT:-8641} \
	--http 127.0.0.1:${DEMO_HTTP_PORT:-8640} --rules "$top/rules" --plan "$top/scripts/demo-plan.yaml" &
spid=$!
pid=
stop_all() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	[ -n "$pid" ] && wait "$pid" 2>/dev/null
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	return 0
}
trap stop_all EXIT INT TERM
for _ in $(seq 1 300); do
	[ -s "$centre/serve.json" ] && break
	kill -0 $spid 2>/dev/null || { echo "yingji: the centre did not start" >&2; exit 1; }
	sleep 0.05
done
agents_addr=$(sed -n 's/.*"agents":"\([^"]*\)".*/\1/p' "$centre/serve.json")
if [ ! -s "$state/server.json" ]; then
	token=$("$yingji" --data "$centre" token create | tail -n 1)
	"$agent" enroll --state "$state" --server "$agents_addr" --token "$token" --name demo-portal
fi

"$agent" run --state "$state" --guard "$site" &
pid=$!

ready=0
for _ in $(seq 1 300); do
	if "$agent" status --state "$state" --json 2>/dev/null | grep -q '"state":"ready"'; then
		ready=1
		break
	fi
	kill -0 $pid 2>/dev/null || break
	sleep 0.1
done
if [ $ready -ne 1 ]; then
	echo "yingji: the agent did not become ready (see the messages above)" >&2
	exit 1
fi

cat <<BANNER

==================================================================
 应急 Yingji 演示: 代理正在防护 $site
 Yingji demo: the agent is guarding $site
------------------------------------------------------------------
 在另一个终端试一试 (try these in another terminal):

   echo '<h1>被黑了</h1>' > $site/index.html     # 篡改: 立即恢复
   echo '<?php eval(\$_POST[x]);' > $site/shell.php  # 新文件: 移入隔离区
   rm -rf $site/news                                 # 删除: 重建
   chmod 777 $site/css/site.css                      # 权限: 恢复

   $yingji --data $centre events --follow    # 中心收到的事件 (at the centre)
   $yingji --data $centre incident list      # 事件单与时限 (incidents, deadlines)
   $yingji --data $centre incident report 1 --source 防篡改告警 --scope 首页 \\
       --nature 网页篡改 --trend 已恢复 --measures 保留证据   # 初次报告 (值班员)
   $yingji --data $centre incident export 1 --format pdf --out $demo/incident1.pdf
   $yingji --data $centre agents             # 代理状态 (agents)
   $agent events --state $state --follow     # 代理本地日志 (the agent's journal)
   $agent publish --state $state --from STAGING_DIR $site   # 授权发布

 按 Ctrl-C 停止 (Ctrl-C stops the agent and the centre)
==================================================================

BANNER

echo "演示 (demonstration): echo '<h1>被黑了</h1>' > $site/index.html"
echo '<h1>被黑了</h1>' >"$site/index.html"
for _ in $(seq 1 250); do
	grep -q '某县司法局' "$site/index.html" && break
	sleep 0.02
done
echo "现在 (now): $(grep -o '<h1>[^<]*</h1>' "$site/index.html")  —— 已恢复 (restored)"
for _ in $(seq 1 100); do
	"$yingji" --data "$centre" events --type tamper 2>/dev/null | grep -q index.html && break
	sleep 0.05
done
echo "中心收到 (at the centre):"
"$yingji" --data "$centre" events --type tamper | tail -n 1
for _ in $(seq 1 100); do
	[ -n "$("$yingji" --data "$centre" incident list --json 2>/dev/null)" ] && break
	sleep 0.05
done
echo
echo "事件单 (the incident, with its clocks: initial report within 30 min):"
"$yingji" --data "$centre" incident list
echo

if [ -n "${DEMO_SECONDS:-}" ]; then
	sleep "$DEMO_SECONDS"
	exit 0
fi
wait $pid
