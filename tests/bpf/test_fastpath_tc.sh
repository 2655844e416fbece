#!/usr/bin/env bash
# test_fastpath_tc.sh - namespaces and veth pairs for test_fastpath_tc (see its header):
#   fpk-pub-$$ (fpkp1) <-> (fpkp0) fpk-brk-$$ (fpks0) <-> (fpks1) fpk-sub-$$
# made here, removed by the trap on every exit path. Usage: test_fastpath_tc.sh HELPER
# Exit 77 (skipped) when not root or when the kernel cannot attach XDP/TC programs.
set -euo pipefail
helper=$1
if [[ $(id -u) -ne 0 ]]; then
	echo "skipped: network namespaces and BPF attach need root"
	exit 77
fi
pub=fpk-pub-$$ brk=fpk-brk-$$ sub=fpk-sub-$$
cleanup() {
	ip netns del "$pub" 2>/dev/null || true
	ip netns del "$brk" 2>/dev/null || true
	ip netns del "$sub" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

ip netns add "$pub"
ip netns add "$brk"
ip netns add "$sub"
# veth pairs are created inside the broker namespace so their names cannot clash with
# interfaces of the host or of another test run.
ip -n "$brk" link add fpkp0 type veth peer name fpkp1 netns "$pub"
ip -n "$brk" link add fpks0 type veth peer name fpks1 netns "$sub"
ip -n "$brk" addr add 10.251.1.1/24 dev fpkp0
ip -n "$brk" addr add 10.251.2.1/24 dev fpks0
ip -n "$brk" addr add fd51:1::1/64 dev fpkp0 nodad
ip -n "$brk" addr add fd51:2::1/64 dev fpks0 nodad
ip -n "$pub" addr add 10.251.1.2/24 dev fpkp1
ip -n "$pub" addr add fd51:1::2/64 dev fpkp1 nodad
ip -n "$sub" addr add 10.251.2.2/24 dev fpks1
ip -n "$sub" addr add fd51:2::2/64 dev fpks1 nodad
for ns in "$pub" "$brk" "$sub"; do
	ip -n "$ns" link set lo up
done
ip -n "$brk" link set fpkp0 up
ip -n "$brk" link set fpks0 up
ip -n "$pub" link set fpkp1 up
ip -n "$sub" link set fpks1 up

timeout 50 "$helper" "$pub" "$brk" "$sub"
