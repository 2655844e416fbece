#!/usr/bin/env bash
# scripts/fastpath-demo.sh [BUILD_DIR] - the kernel fast path on this machine, in a minute:
# a broker namespace with the programs attached to two veths, a device namespace publishing
# QoS -1 on a predefined topic, another with two MQTT-SN subscribers; prints what the
# subscribers got and the kernel counters (mqtt-fast-ctl stats). Everything it creates
# (namespaces fpu-demo-*) is removed on exit. Needs root; build first (scripts/start.sh does).
set -euo pipefail
B=${1:-build}
for f in broker/mqtt-fast tools/mqtt-fast-pub tools/mqtt-fast-sub tools/mqtt-fast-ctl; do
	[ -x "$B/$f" ] || { echo "fastpath-demo: $B/$f missing: build first" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "fastpath-demo: needs root (namespaces, BPF)" >&2; exit 1; }
DIR=$(mktemp -d /tmp/fpu-demo.XXXXXX)
BROKER=
cleanup() {
	[ -n "$BROKER" ] && kill "$BROKER" 2>/dev/null && wait "$BROKER" 2>/dev/null
	for ns in fpu-demo-brk fpu-demo-dev fpu-demo-sub; do ip netns del $ns 2>/dev/null || true; done
	rm -rf "$DIR"
}
trap cleanup EXIT INT TERM
for ns in fpu-demo-brk fpu-demo-dev fpu-demo-sub; do
	ip netns del $ns 2>/dev/null || true
	ip netns add $ns
	ip -n $ns link set lo up
done
ip link add fpudemo0 netns fpu-demo-brk type veth peer name fpudemo1 netns fpu-demo-dev
ip link add fpudemo2 netns fpu-demo-brk type veth peer name fpudemo3 netns fpu-demo-sub
ip -n fpu-demo-brk addr add 10.78.0.1/24 dev fpudemo0
ip -n fpu-demo-dev addr add 10.78.0.2/24 dev fpudemo1
ip -n fpu-demo-brk addr add 10.78.1.1/24 dev fpudemo2
ip -n fpu-demo-sub addr add 10.78.1.2/24 dev fpudemo3
for l in fpu-demo-brk:fpudemo0 fpu-demo-dev:fpudemo1 fpu-demo-brk:fpudemo2 fpu-demo-sub:fpudemo3; do
	ip -n "${l%%:*}" link set "${l#*:}" up
done
# Devices compute their UDP checksums; local sockets on veth would leave them to "hardware".
ip netns exec fpu-demo-dev ethtool -K fpudemo1 tx off >/dev/null
ip netns exec fpu-demo-sub ethtool -K fpudemo3 tx off >/dev/null
cat >"$DIR/demo.conf" <<EOF
listener 1883 127.0.0.1
allow_anonymous true
listener 1884
protocol mqttsn
sn_predefined_topic 1 sensors/outdoor
fastpath sensors/#
fastpath_interface fpudemo0
fastpath_interface fpudemo2
control_socket $DIR/ctl.sock
EOF
ip netns exec fpu-demo-brk "$B/broker/mqtt-fast" -c "$DIR/demo.conf" 2>"$DIR/broker.log" &
BROKER=$!
ctl() { ip netns exec fpu-demo-brk "$B/tools/mqtt-fast-ctl" -s "$DIR/ctl.sock" "$@"; }
for _ in $(seq 100); do ctl stats >/dev/null 2>&1 && break; sleep 0.05; done
grep "fast path" "$DIR/broker.log" || true
for s in 1 2; do
	ip netns exec fpu-demo-sub "$B/tools/mqtt-fast-sub" --sn -h 10.78.1.1 --sn-topic-id 1 -v \
		-C 5 -W 10 >"$DIR/sub$s.out" &
done
sleep 0.5 # the demo waits for its two subscribers; the tests wait on broker state instead
for i in 1 2 3 4 5; do
	ip netns exec fpu-demo-dev "$B/tools/mqtt-fast-pub" --sn -h 10.78.0.1 --sn-topic-id 1 -q -1 -m "reading $i"
done
wait %2 %3 || true
echo "--- subscriber 1"; cat "$DIR/sub1.out"
echo "--- subscriber 2"; cat "$DIR/sub2.out"
echo "--- mqtt-fast-ctl stats (forwarded: PUBLISHes the kernel fanned out; clones: copies sent;"
echo "    gateway_datagrams_received: what reached the broker's socket)"
ctl stats
