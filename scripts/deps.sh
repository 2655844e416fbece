#!/usr/bin/env bash
# Installs the Debian 12 packages mqtt-fast needs to build, test and run. Idempotent: prints
# nothing and touches nothing when every package is already installed. Needs root.
set -euo pipefail

packages=(
	# build
	build-essential cmake pkg-config clang llvm libclang-rt-14-dev
	# broker dependencies
	libev-dev libssl-dev liblmdb-dev openssl
	# kernel fast path
	libbpf-dev bpftool linux-libc-dev iproute2
	# fast-path end-to-end tests: tx checksum offload off on the client veths (tests/fastpath)
	ethtool
	# tests: coverage, interop peers
	gcovr libpaho-mqtt-dev mosquitto mosquitto-clients python3-paho-mqtt
	# benchmarks: plots (tests/bench/report.py)
	gnuplot-nox python3
)

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ $status == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
	echo "deps.sh: missing packages: ${missing[*]}; run as root to install them" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
