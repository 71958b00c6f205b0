#!/usr/bin/env bash
# Install the Debian packages a target needs, and only those that are missing.
# Usage: scripts/deps.sh build|check|bench|fuzz
set -euo pipefail

build=(cmake make gcc pkg-config libssl-dev libzstd-dev libsqlite3-dev libhyperscan-dev libpcre2-dev libyaml-dev libcurl4-openssl-dev libcairo2-dev libpango1.0-dev zlib1g-dev fonts-noto-cjk libnftables-dev libsystemd-dev nftables e2fsprogs)
# x86-64: Intel's multi-buffer SHA-256 for scans (lib/tls/sha256_batch.c)
case "$(uname -m)" in x86_64) build+=(libipsec-mb-dev) ;; esac
check=("${build[@]}" libcmocka-dev python3 python3-yaml iproute2 util-linux procps psmisc openssl sqlite3 curl poppler-utils python3-docx unzip systemd)
bench=("${build[@]}" aide openssl procps inotify-tools sqlite3 python3 fail2ban)
fuzz=("${build[@]}" clang libclang-rt-14-dev)

case "${1:-build}" in
build) want=("${build[@]}") ;;
check) want=("${check[@]}") ;;
bench) want=("${bench[@]}") ;;
fuzz) want=("${fuzz[@]}") ;;
*) echo "usage: $0 build|check|bench|fuzz" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "yingji: missing Debian packages: ${missing[*]}" >&2
	echo "yingji: run as root, or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "yingji: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
