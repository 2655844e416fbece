#!/usr/bin/env bash
# tests/fastpath/e2e.sh MODE - the kernel fast path end to end, with the real broker, the real
# programs and real clients in network namespaces:
#
#   fpu-T-pub (10.77.B.2) --veth-- fpu-T-brk (broker: .1 on each link) --veth-- fpu-T-s1 (10.77.B+1.2)
#                                                                     \--veth-- fpu-T-s2 (10.77.B+2.2)
#
# MODE kernel:   fastpath_interface on the three broker-side veths (XDP + TC attached);
# MODE fallback: no fastpath_interface;
# MODE bogus:    a fastpath_interface that does not exist (one log line, then userspace);
# MODE noperm:   the kernel mode's configuration, but the broker runs as nobody (no BPF).
# Every mode must deliver the same messages, byte for byte, exactly once. Only the kernel mode
# must show kernel counters moving and datagrams never reaching the broker's socket.
# Needs root (namespaces, BPF); exits 77 (skipped) without.
set -euo pipefail

MODE=${1:?usage: e2e.sh kernel|fallback|bogus|noperm}
BIN=${MQTT_FAST_BIN:?} PUB=${MQTT_FAST_PUB:?} SUB=${MQTT_FAST_SUB:?} CTL=${MQTT_FAST_CTL:?}
case $MODE in
kernel) T=k; BASE=10; PORT=25510 ;;
fallback) T=f; BASE=20; PORT=25520 ;;
bogus) T=x; BASE=30; PORT=25530 ;;
noperm) T=n; BASE=40; PORT=25550 ;;
*) echo "unknown mode $MODE" >&2; exit 2 ;;
esac
SNPORT=$((PORT + 1))
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (network namespaces, BPF)"
	exit 77
fi
for tool in mosquitto_sub ethtool; do
	command -v $tool >/dev/null || { echo "FAIL: $tool missing (scripts/deps.sh installs it)"; exit 1; }
done

NS_BRK=fpu-$T-brk NS_PUB=fpu-$T-pub NS_S1=fpu-$T-s1 NS_S2=fpu-$T-s2
DIR=$(mktemp -d /tmp/fpu-$T.XXXXXX)
PIDS=()
cleanup() {
	local rc=$?
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	for ns in $NS_BRK $NS_PUB $NS_S1 $NS_S2; do ip netns del "$ns" 2>/dev/null || true; done
	if [ $rc -ne 0 ] && [ -f "$DIR/broker.log" ]; then
		echo "--- broker log"; cat "$DIR/broker.log"
	fi
	rm -rf "$DIR"
	exit $rc
}
trap cleanup EXIT INT TERM

fail() {
	echo "FAIL [$MODE]: $*"
	echo "--- mqtt-fast-ctl stats"
	ip netns exec $NS_BRK "$CTL" -s "$DIR/ctl.sock" stats 2>&1 || true
	exit 1
}

# ---- topology ------------------------------------------------------------------------------
for ns in $NS_BRK $NS_PUB $NS_S1 $NS_S2; do
	ip netns del "$ns" 2>/dev/null || true
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
HOSTS=($NS_PUB $NS_S1 $NS_S2)
for i in 0 1 2; do
	net=10.77.$((BASE + i))
	ip link add "fpu${T}b$i" netns $NS_BRK type veth peer name "fpu${T}h$i" netns "${HOSTS[$i]}"
	ip -n $NS_BRK addr add "$net.1/24" dev "fpu${T}b$i"
	ip -n "${HOSTS[$i]}" addr add "$net.2/24" dev "fpu${T}h$i"
	ip -n $NS_BRK link set "fpu${T}b$i" up
	ip -n "${HOSTS[$i]}" link set "fpu${T}h$i" up
	# A device computes its UDP checksum; a local socket over veth leaves it to "hardware"
	# (CHECKSUM_PARTIAL), which XDP sees as wrong and passes up (pass_bad_csum).
	ip netns exec "${HOSTS[$i]}" ethtool -K "fpu${T}h$i" tx off >/dev/null
done
BRK_PUB=10.77.$BASE.1 BRK_S1=10.77.$((BASE + 1)).1 BRK_S2=10.77.$((BASE + 2)).1

# ---- broker --------------------------------------------------------------------------------
CTLSOCK=$DIR/ctl.sock
RUNAS=
if [ $MODE = noperm ]; then
	RUNAS="setpriv --reuid=nobody --regid=nogroup --clear-groups"
	chmod 1777 "$DIR" # the broker (nobody) reads its files here and binds the control socket
fi
cat >"$DIR/broker.conf" <<EOF
listener $PORT 127.0.0.1
allow_anonymous true
listener $SNPORT
protocol mqttsn
sn_predefined_topic 7 sensors/pre
sys_interval 1
control_socket $CTLSOCK
acl_file $DIR/acl
fastpath sensors/#
EOF
# MQTT-SN clients are identified by their client id (acl.h); section 5 edits this file.
printf 'topic readwrite sensors/#\ntopic readwrite ab\npattern read $SYS/#\npattern readwrite #\n' >"$DIR/acl"
case $MODE in
kernel | noperm) for i in 0 1 2; do echo "fastpath_interface fpu${T}b$i" >>"$DIR/broker.conf"; done ;;
bogus) echo "fastpath_interface fpu${T}nosuch" >>"$DIR/broker.conf" ;;
esac
ctl() { ip netns exec $NS_BRK "$CTL" -s "$CTLSOCK" "$@"; }
start_broker() {
	ip netns exec $NS_BRK $RUNAS "$BIN" -c "$DIR/broker.conf" >"$DIR/broker.log" 2>&1 &
	BROKER=$!
	PIDS+=($BROKER)
	for _ in $(seq 100); do ctl stats >/dev/null 2>&1 && break; sleep 0.05; done
	ctl stats >/dev/null || fail "broker did not come up"
}
start_broker
if [ $MODE = kernel ]; then
	# A crashed broker leaves its programs attached: the next start replaces them.
	kill -9 $BROKER
	wait $BROKER 2>/dev/null || true
	ip -n $NS_BRK link show "fpu${T}b0" | grep -q "name fp_xdp" || fail "no leftover XDP program to replace"
	old_id=$(ip -n $NS_BRK link show "fpu${T}b0" | awk '/prog\/xdp/ { print $3 }')
	start_broker
	new_id=$(ip -n $NS_BRK link show "fpu${T}b0" | awk '/prog\/xdp/ { print $3 }')
	[ -n "$new_id" ] && [ "$new_id" != "$old_id" ] || fail "the leftover XDP program (id $old_id) was not replaced ($new_id)"
	[ "$(ip netns exec $NS_BRK tc filter show dev "fpu${T}b0" ingress | grep -c 'name fp_tc')" = 1 ] ||
		fail "TC filters after the restart: $(ip netns exec $NS_BRK tc filter show dev "fpu${T}b0" ingress)"
fi

case $MODE in
kernel) grep -q "fast path attached to fpu${T}b2" "$DIR/broker.log" || fail "programs not attached" ;;
fallback) grep -q "fast path off (no fastpath_interface)" "$DIR/broker.log" || fail "no fallback line" ;;
noperm) grep -q "fast path unavailable, running in userspace: loading the fast-path programs failed: Operation not permitted" \
	"$DIR/broker.log" || fail "no clear fallback line without privileges" ;;
bogus) grep -q "fast path unavailable, running in userspace: fastpath_interface fpu${T}nosuch: no such interface" \
	"$DIR/broker.log" || fail "no clear fallback line for a bogus interface" ;;
esac

if [ $MODE = noperm ]; then
	# The control channel: root (above) and the broker's user may use it, nobody else.
	ip netns exec $NS_BRK setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$CTL" -s "$CTLSOCK" fastpath list >/dev/null || fail "the broker's own user was refused"
	if ip netns exec $NS_BRK setpriv --reuid=daemon --regid=daemon --clear-groups \
		"$CTL" -s "$CTLSOCK" fastpath add x/y 2>"$DIR/denied.err"; then
		fail "another user could use the control channel"
	fi
	grep -q "permission denied" "$DIR/denied.err" || fail "no clear refusal: $(cat "$DIR/denied.err")"
	[ "$(ctl fastpath list)" = "sensors/#" ] || fail "a refused command changed the filters"
fi

stat_of() { ctl stats | awk -v k="$1" '$1 == k { print $2; exit }'; }
# Waits until `ctl stats` shows at least $2 for counter $1 (bounded).
subscriptions() {
	ip netns exec $NS_BRK mosquitto_sub -h 127.0.0.1 -p $PORT -t '$SYS/broker/subscriptions/count' -C 1 -W 3
}
wait_subscriptions() {
	for _ in $(seq 60); do
		[ "$(subscriptions 2>/dev/null || echo 0)" -ge "$1" ] && return 0
		sleep 0.1
	done
	fail "subscriptions never reached $1"
}
# Exactly the expected lines, each once (no duplicates, nothing missing).
check_output() {
	local file=$1 want=$2
	if ! diff <(sort "$file") <(printf '%s\n' "${want[@]}" | sort) >/dev/null; then
		echo "--- got ($file)"; cat "$file"; echo "--- want"; printf '%s\n' "$want"
		fail "$file: wrong messages"
	fi
}

# ---- 1. wildcard + exact SN subscribers and an MQTT subscriber on the same topic -------------
N=5
ip netns exec $NS_S1 "$SUB" --sn -h $BRK_S1 -p $SNPORT -i s1 -t 'sensors/#' -v -C $N -W 20 >"$DIR/s1.out" &
S1=$!; PIDS+=($S1)
ip netns exec $NS_S2 "$SUB" --sn -h $BRK_S2 -p $SNPORT -i s2 -t sensors/t1 -v -C $N -W 20 >"$DIR/s2.out" &
S2=$!; PIDS+=($S2)
ip netns exec $NS_BRK mosquitto_sub -h 127.0.0.1 -p $PORT -t 'sensors/#' -v -C $N -W 20 >"$DIR/m.out" &
M=$!; PIDS+=($M)
wait_subscriptions 3
want=""
for i in $(seq $N); do
	ip netns exec $NS_PUB "$PUB" --sn -h $BRK_PUB -p $SNPORT -i pub -t sensors/t1 -m "m$i" -q 0
	want+="sensors/t1 m$i"$'\n'
done
wait $S1 || fail "s1 (sensors/#) did not get $N messages"
wait $S2 || fail "s2 (sensors/t1) did not get $N messages"
wait $M || fail "mosquitto_sub did not get $N messages"
for f in s1 s2 m; do
	diff <(sort "$DIR/$f.out") <(printf '%s' "$want" | sort) || fail "$f: wrong or duplicated messages"
done
if [ $MODE = kernel ]; then
	# s2 (registered by its SUBACK) is served by the kernel from the first message; s1
	# (wildcard) gets the first one from userspace after a REGISTER, then, once its REGACK
	# is in, from the kernel too: at least N + 1 kernel copies.
	clones=$(stat_of clones)
	[ "$clones" -ge $((N + 1)) ] || fail "the kernel sent $clones copies, want at least $((N + 1))"
else
	[ "$(stat_of clones)" = 0 ] || fail "kernel counters moved in $MODE mode"
fi

# ---- 2. fast-path-only traffic never reaches the broker's socket ---------------------------
# Two SN subscribers by predefined id 7, QoS -1 publishes (no connection): byte-exact bodies.
M2=6
ip netns exec $NS_S1 "$SUB" --sn -h $BRK_S1 -p $SNPORT -i s1b --sn-topic-id 7 -v -C $M2 -W 20 -d >"$DIR/s1b.out" 2>"$DIR/s1b.err" &
S1=$!; PIDS+=($S1)
ip netns exec $NS_S2 "$SUB" --sn -h $BRK_S2 -p $SNPORT -i s2b --sn-topic-id 7 -v -C $M2 -W 20 >"$DIR/s2b.out" &
S2=$!; PIDS+=($S2)
wait_subscriptions 2
ctl stats >/dev/null # the sync that follows the subscriptions ran: the next datagrams see it
dgrams0=$(stat_of gateway_datagrams_received)
fwd0=$(stat_of forwarded)
clones0=$(stat_of clones)
want=""
for i in $(seq $M2); do
	ip netns exec $NS_PUB "$PUB" --sn -h $BRK_PUB -p $SNPORT --sn-topic-id 7 -m "p$i-$(printf 'x%.0s' $(seq $i))" -q -1
	want+="7 p$i-$(printf 'x%.0s' $(seq $i))"$'\n'
done
wait $S1 || fail "s1b did not get $M2 messages"
wait $S2 || fail "s2b did not get $M2 messages"
# QoS -1 exists only towards the gateway (MQTT-SN 1.2 §6.8): subscribers get QoS 0, from
# the kernel's copies as from userspace.
[ "$(grep -c 'received PUBLISH (d0, q0, r0' "$DIR/s1b.err")" = $M2 ] ||
	fail "s1b: not $M2 QoS 0 PUBLISHes: $(grep 'received PUBLISH' "$DIR/s1b.err" | head -3)"
for f in s1b s2b; do
	diff <(sort "$DIR/$f.out") <(printf '%s' "$want" | sort) || fail "$f: wrong or duplicated messages"
done
# The socket sees the two subscribers' DISCONNECTs, plus every PUBLISH without the kernel.
want_dgrams=$((dgrams0 + 2))
[ $MODE = kernel ] || want_dgrams=$((want_dgrams + M2))
for _ in $(seq 50); do
	[ "$(stat_of gateway_datagrams_received)" -ge $want_dgrams ] && break
	sleep 0.05
done
dgrams1=$(stat_of gateway_datagrams_received)
[ "$dgrams1" = $want_dgrams ] || fail "the socket saw $((dgrams1 - dgrams0)) datagrams, want $((want_dgrams - dgrams0))"
if [ $MODE = kernel ]; then
	[ $(($(stat_of forwarded) - fwd0)) = $M2 ] || fail "forwarded moved by $(($(stat_of forwarded) - fwd0)), want $M2"
	[ $(($(stat_of clones) - clones0)) = $((2 * M2)) ] || fail "clones moved by $(($(stat_of clones) - clones0)), want $((2 * M2))"
	# The same counters under $SYS (published every sys_interval = 1 s).
	for _ in $(seq 40); do
		sys_clones=$(ip netns exec $NS_BRK mosquitto_sub -h 127.0.0.1 -p $PORT \
			-t '$SYS/broker/fastpath/clones' -C 1 -W 3 2>/dev/null || echo 0)
		[ "$sys_clones" -ge $((clones0 + 2 * M2)) ] && break
		sleep 0.1
	done
	[ "$sys_clones" -ge $((clones0 + 2 * M2)) ] || fail "\$SYS/broker/fastpath/clones is $sys_clones"
fi

# ---- 3. fastpath add|del|list at run time --------------------------------------------------
[ "$(ctl fastpath list)" = "sensors/#" ] || fail "fastpath list: $(ctl fastpath list)"
ctl fastpath del 'sensors/#'
ctl fastpath add 'other/+'
[ "$(ctl fastpath list)" = "other/+" ] || fail "fastpath list after del/add: $(ctl fastpath list)"
if ctl fastpath add 'other/+' 2>/dev/null; then fail "a duplicate filter was accepted"; fi
if ctl fastpath add 'a/#/b' 2>/dev/null; then fail "an invalid filter was accepted"; fi
ip netns exec $NS_S1 "$SUB" --sn -h $BRK_S1 -p $SNPORT -i s1c --sn-topic-id 7 -v -C 2 -W 20 >"$DIR/s1c.out" &
S1=$!; PIDS+=($S1)
wait_subscriptions 1
ctl stats >/dev/null
fwd0=$(stat_of forwarded)
dgrams0=$(stat_of gateway_datagrams_received)
ip netns exec $NS_PUB "$PUB" --sn -h $BRK_PUB -p $SNPORT --sn-topic-id 7 -m off -q -1
ctl fastpath add 'sensors/pre'
ctl stats >/dev/null
ip netns exec $NS_PUB "$PUB" --sn -h $BRK_PUB -p $SNPORT --sn-topic-id 7 -m on -q -1
wait $S1 || fail "s1c did not get both messages"
diff <(sort "$DIR/s1c.out") <(printf '7 off\n7 on\n') || fail "s1c: wrong messages"
# "off" went through userspace (the topic was no longer fast-path), "on" through the kernel
# (userspace only in the other modes); then the subscriber's DISCONNECT.
want_dgrams=$((dgrams0 + 2))
[ $MODE = kernel ] || want_dgrams=$((want_dgrams + 1))
for _ in $(seq 50); do
	[ "$(stat_of gateway_datagrams_received)" -ge $want_dgrams ] && break
	sleep 0.05
done
[ "$(stat_of gateway_datagrams_received)" = $want_dgrams ] ||
	fail "after del/add the socket saw $(($(stat_of gateway_datagrams_received) - dgrams0)) datagrams, want $((want_dgrams - dgrams0))"
if [ $MODE = kernel ]; then
	[ $(($(stat_of forwarded) - fwd0)) = 1 ] || fail "after add, the kernel should forward exactly one"
fi
# ---- 4. unsubscribe and sleep take effect on the next packet --------------------------------
PY="python3 $(dirname "$0")/sn_client.py"
ctl fastpath add 'sensors/#'
wait_line() { # file pattern: bounded wait for a line
	for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
	fail "$1: no line matching '$2'"
}
ip netns exec $NS_S1 $PY $BRK_S1 $SNPORT u1 sensors/t2 2 unsub 1.5 >"$DIR/u1.out" &
U1=$!; PIDS+=($U1)
ip netns exec $NS_S2 $PY $BRK_S2 $SNPORT z2 sensors/t2 2 sleep 1.5 >"$DIR/z2.out" &
Z2=$!; PIDS+=($Z2)
wait_line "$DIR/u1.out" '^ready'
wait_line "$DIR/z2.out" '^ready'
id=$(awk '/^ready/ { print $2 }' "$DIR/u1.out")
ctl stats >/dev/null
clones0=$(stat_of clones)
for i in 1 2; do ip netns exec $NS_PUB "$PUB" --sn -h $BRK_PUB -p $SNPORT -i pub -t sensors/t2 -m "n$i" -q 0; done
wait_line "$DIR/u1.out" '^unsubscribed'
wait_line "$DIR/z2.out" '^asleep'
clones1=$(stat_of clones)
for i in 3 4 5; do ip netns exec $NS_PUB "$PUB" --sn -h $BRK_PUB -p $SNPORT -i pub -t sensors/t2 -m "n$i" -q 0; done
wait $U1 || fail "u1 failed: $(cat "$DIR/u1.out")"
wait $Z2 || fail "z2 failed: $(cat "$DIR/z2.out")"
diff "$DIR/u1.out" <(printf 'ready %s\nmsg %s n1\nmsg %s n2\nunsubscribed\n' $id $id $id) ||
	fail "u1: messages after UNSUBACK, or missing ones"
diff "$DIR/z2.out" <(printf 'ready %s\nmsg %s n1\nmsg %s n2\nasleep\nwoken %s n3\nwoken %s n4\nwoken %s n5\nawake\n' \
	$id $id $id $id $id $id) || fail "z2: a message while asleep, or the buffer is wrong"
if [ $MODE = kernel ]; then
	[ $((clones1 - clones0)) = 4 ] || fail "n1, n2: the kernel made $((clones1 - clones0)) copies, want 4"
	[ "$(stat_of clones)" = $clones1 ] || fail "the kernel served an unsubscribed or sleeping client"
fi

# ---- 5. an ACL change (SIGHUP) takes effect on the next packet ------------------------------
ip netns exec $NS_S1 $PY $BRK_S1 $SNPORT a1 sensors/acl 0 stay 2.5 >"$DIR/a1.out" &
A1=$!; PIDS+=($A1)
ip netns exec $NS_S2 $PY $BRK_S2 $SNPORT a2 sensors/acl 0 stay 2.5 >"$DIR/a2.out" &
A2=$!; PIDS+=($A2)
wait_line "$DIR/a1.out" '^ready'
wait_line "$DIR/a2.out" '^ready'
id=$(awk '/^ready/ { print $2 }' "$DIR/a1.out")
ctl stats >/dev/null
clones0=$(stat_of clones)
ip netns exec $NS_PUB "$PUB" --sn -h $BRK_PUB -p $SNPORT -i pub -t sensors/acl -m x1 -q 0
wait_line "$DIR/a1.out" '^msg .* x1'
wait_line "$DIR/a2.out" '^msg .* x1'
clones1=$(stat_of clones)
printf 'topic readwrite sensors/#\ntopic readwrite ab\nuser a1\ntopic deny sensors/acl\npattern read $SYS/#\npattern readwrite #\n' >"$DIR/acl"
kill -HUP $BROKER
wait_line "$DIR/broker.log" 'reload: acl_file'
ctl stats >/dev/null
ip netns exec $NS_PUB "$PUB" --sn -h $BRK_PUB -p $SNPORT -i pub -t sensors/acl -m x2 -q 0
wait $A1 || fail "a1 failed"
wait $A2 || fail "a2 failed"
diff "$DIR/a1.out" <(printf 'ready %s\nmsg %s x1\n' $id $id) || fail "a1: read after its ACL denied it"
diff "$DIR/a2.out" <(printf 'ready %s\nmsg %s x1\nmsg %s x2\n' $id $id $id) || fail "a2: wrong messages"
if [ $MODE = kernel ]; then
	[ $((clones1 - clones0)) = 2 ] || fail "x1: $((clones1 - clones0)) kernel copies, want 2"
	[ $(($(stat_of clones) - clones1)) = 1 ] || fail "x2: $(($(stat_of clones) - clones1)) kernel copies, want 1"
fi

# ---- 6. short topic names (2 characters) ----------------------------------------------------
ctl fastpath add 'ab'
ip netns exec $NS_S1 "$SUB" --sn -h $BRK_S1 -p $SNPORT -i h1 -t ab -v -C 3 -W 20 >"$DIR/h1.out" &
S1=$!; PIDS+=($S1)
ip netns exec $NS_S2 "$SUB" --sn -h $BRK_S2 -p $SNPORT -i h2 -t ab -v -C 3 -W 20 >"$DIR/h2.out" &
S2=$!; PIDS+=($S2)
wait_subscriptions 2
ctl stats >/dev/null
fwd0=$(stat_of forwarded)
clones0=$(stat_of clones)
for i in 1 2 3; do ip netns exec $NS_PUB "$PUB" --sn -h $BRK_PUB -p $SNPORT -t ab -m "s$i" -q -1; done
wait $S1 || fail "h1 did not get 3 messages"
wait $S2 || fail "h2 did not get 3 messages"
for f in h1 h2; do
	diff "$DIR/$f.out" <(printf 'ab s1\nab s2\nab s3\n') || fail "$f: wrong short-name messages"
done
if [ $MODE = kernel ]; then
	[ $(($(stat_of forwarded) - fwd0)) = 3 ] || fail "short names: forwarded moved by $(($(stat_of forwarded) - fwd0)), want 3"
	[ $(($(stat_of clones) - clones0)) = 6 ] || fail "short names: clones moved by $(($(stat_of clones) - clones0)), want 6"
fi

# ---- 7. IPv6, and subscribers of both families on one topic ---------------------------------
# The kernel serves only the slots of the packet's own family and passes the original up
# (marked) for the others; userspace serves exactly those (route.c skips by family).
for i in 0 1 2; do
	ip -n $NS_BRK addr add "fd00:77:$((BASE + i))::1/64" dev "fpu${T}b$i" nodad
	ip -n "${HOSTS[$i]}" addr add "fd00:77:$((BASE + i))::2/64" dev "fpu${T}h$i" nodad
done
ip netns exec $NS_S1 "$SUB" --sn -h fd00:77:$((BASE + 1))::1 -p $SNPORT -i v6 --sn-topic-id 7 -v -C 6 -W 20 >"$DIR/v6.out" &
S1=$!; PIDS+=($S1)
ip netns exec $NS_S2 "$SUB" --sn -h $BRK_S2 -p $SNPORT -i v4 --sn-topic-id 7 -v -C 6 -W 20 >"$DIR/v4.out" &
S2=$!; PIDS+=($S2)
wait_subscriptions 2
ctl stats >/dev/null
clones0=$(stat_of clones)
want=""
for i in 1 2 3; do
	ip netns exec $NS_PUB "$PUB" --sn -h $BRK_PUB -p $SNPORT --sn-topic-id 7 -m "four$i" -q -1
	ip netns exec $NS_PUB "$PUB" --sn -h fd00:77:$BASE::1 -p $SNPORT --sn-topic-id 7 -m "six$i" -q -1
	want+="7 four$i"$'\n'"7 six$i"$'\n'
done
wait $S1 || fail "the IPv6 subscriber did not get 6 messages"
wait $S2 || fail "the IPv4 subscriber did not get 6 messages"
for f in v6 v4; do
	diff <(sort "$DIR/$f.out") <(printf '%s' "$want" | sort) || fail "$f: wrong or duplicated messages"
done
if [ $MODE = kernel ]; then
	# Each PUBLISH: one copy to the subscriber of its own family, the other from userspace.
	[ $(($(stat_of clones) - clones0)) = 6 ] || fail "mixed families: $(($(stat_of clones) - clones0)) kernel copies, want 6"
fi

# A clean exit: status 0, nothing from the sanitizers (ASan builds), and in kernel mode
# nothing left attached.
kill $BROKER
rc=0
wait $BROKER || rc=$?
[ $rc = 0 ] || fail "the broker exited with status $rc"
if grep -E "Sanitizer|runtime error" "$DIR/broker.log"; then fail "sanitizer report"; fi
if [ $MODE = kernel ]; then
	if ip -n $NS_BRK link show "fpu${T}b0" | grep -q "prog/xdp"; then fail "XDP left attached after exit"; fi
	if ip netns exec $NS_BRK tc filter show dev "fpu${T}b0" ingress | grep -q fp_tc; then
		fail "TC filter left attached after exit"
	fi
fi
echo "PASS [$MODE]"
