#!/usr/bin/env python3
"""centre_latency.py - tamper on an agent to event visible through the centre's API.

Usage: centre_latency.py YINGJI_BIN WORKDIR N

Starts `yingji serve` and an enrolled `yingji-agent run` guarding a small site under
WORKDIR, then N times: overwrite one page (a different one each time, so nothing is
folded), and long-poll GET /api/v1/events until the centre has the tamper event for that
page. Prints one line per figure as "name p50_ms p99_ms":

  centre   write → event visible through the API (what the plan's 秒级响应 is about)
  agent    write → the agent noticed it (the event's time_ns): the floor under the above
Never fails on timing; exits 1 only if something did not work at all.
"""
import http.client
import json
import os
import shutil
import subprocess
import sys
import time


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def main():
    bindir, work, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    site, data, state = f"{work}/site", f"{work}/centre", f"{work}/state"
    os.makedirs(site)
    for i in range(n):
        with open(f"{site}/page-{i}.html", "w") as f:
            f.write(f"<html><body>page {i}</body></html>\n")
    env = dict(os.environ, YINGJI_LANG="en")
    procs = []
    try:
        srv = subprocess.Popen([f"{bindir}/yingji", "serve", "--data", data, "--agents",
                                "127.0.0.1:0", "--http", "127.0.0.1:0"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(srv)
        for _ in range(500):
            if os.path.exists(f"{data}/serve.json") and os.path.getsize(f"{data}/serve.json"):
                break
            time.sleep(0.01)
        serve = json.load(open(f"{data}/serve.json"))
        token = open(f"{data}/admin.token").read().strip()
        tok = subprocess.run([f"{bindir}/yingji", "--data", data, "token", "create"], env=env,
                             capture_output=True, text=True, check=True).stdout.split()[-1]
        subprocess.run([f"{bindir}/yingji-agent", "enroll", "--state", state, "--server",
                        serve["agents"], "--token", tok], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        agent = subprocess.Popen([f"{bindir}/yingji-agent", "run", "--state", state, "--guard",
                                  site], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        procs.append(agent)
        host, port = serve["http"].rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        hdr = {"Authorization": f"Bearer {token}"}

        def get(path):
            conn.request("GET", path, headers=hdr)
            r = conn.getresponse()
            body = r.read()
            if r.status != 200:
                raise RuntimeError(f"{path}: HTTP {r.status} {body[:200]!r}")
            return json.loads(body)

        cursor = 0
        deadline = time.time() + 60
        while time.time() < deadline:      # the agent's guard is ready at the centre
            page = get(f"/api/v1/events?after={cursor}&wait=5")
            cursor = page["next"]
            if any(e["type"] == "guard_ready" for e in page["events"]):
                break
        else:
            raise RuntimeError("the agent never became ready at the centre")
        centre, noticed = [], []
        for i in range(n):
            path = f"{site}/page-{i}.html"
            t0 = time.time_ns()
            with open(path, "w") as f:
                f.write("<h1>defaced</h1>\n")
            found = None
            while found is None:
                page = get(f"/api/v1/events?after={cursor}&type=tamper&wait=5")
                cursor = page["next"]
                t1 = time.time_ns()
                for e in page["events"]:
                    if e.get("path") == path:
                        found = e
                if not page["events"] and time.time_ns() - t0 > 10e9:
                    raise RuntimeError(f"no event for {path} within 10 s")
            centre.append((t1 - t0) / 1e6)
            noticed.append((found["time_ns"] - t0) / 1e6)
            time.sleep(0.02)
        print(f"centre {pct(centre, 50):.2f} {pct(centre, 99):.2f}")
        print(f"agent {pct(noticed, 50):.2f} {pct(noticed, 99):.2f}")
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # a broken run says so; figures then read n/a
        print(f"centre_latency: {exc}", file=sys.stderr)
        sys.exit(1)
