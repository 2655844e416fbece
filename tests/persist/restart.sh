#!/usr/bin/env bash
# restart.sh - what persistence promises across a kill -9 and a restart, with real clients:
# retained messages (mosquitto_pub/sub), a persistent 3.1.1 session with its subscriptions and
# the QoS 1/2 messages queued while it was offline, an MQTT 5 session whose expiry goes on from
# the stored deadline (and ends while the broker is down), a persistent MQTT-SN session with
# its queued message, MQTT-SN topic ids that keep their numbers (mqtt-fast-pub/-sub --sn), a
# delayed will pending at the crash, and stores the daemon must refuse (held by another
# process, corrupt): non-zero exit, the reason logged, the files untouched.
# Ports 24010 (MQTT) and 24011 (MQTT-SN). Every case kills the broker with SIGKILL: nothing
# depends on a clean shutdown.
set -u
set -o pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${MQTT_FAST_BIN:-$SRC/build/broker/mqtt-fast}
FPUB=${MQTT_FAST_PUB:-$SRC/build/tools/mqtt-fast-pub}
FSUB=${MQTT_FAST_SUB:-$SRC/build/tools/mqtt-fast-sub}
PORT=24010
SN_PORT=24011
for tool in "$BIN" "$FPUB" "$FSUB" "$(command -v mosquitto_pub)" "$(command -v mosquitto_sub)"; do
	[[ -x $tool ]] || { echo "restart.sh: needed tool '$tool' not found" >&2; exit 1; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mqtt-fast-restart.XXXXXX") || exit 1
BROKER_PID=
FAILED=0
PASSED=0
CLIENT_PIDS=()
cleanup() {
	local p
	for p in "${CLIENT_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	[[ -n $BROKER_PID ]] && kill -9 "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
	[[ -n ${KEEP_TMP:-} ]] || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

cat >"$TMP/broker.conf" <<CONF
listener $PORT 127.0.0.1
listener $SN_PORT 127.0.0.1
protocol mqttsn
allow_anonymous true
sys_interval 0
persistence true
persistence_location $TMP/store
autosave_interval 60
log_dest file $TMP/broker.log
log_type all
CONF

fail() {
	echo "FAIL: $*" >&2
	echo "--- broker log (last 30 lines)" >&2
	tail -n 30 "$TMP/broker.log" | sed 's/^/  | /' >&2
	FAILED=$((FAILED + 1))
}
pass() {
	echo "ok: $*"
	PASSED=$((PASSED + 1))
}

# Starts the broker and waits (bounded) for its MQTT port.
start_broker() {
	"$BIN" -c "$TMP/broker.conf" 2>>"$TMP/broker.stderr" &
	BROKER_PID=$!
	for _ in $(seq 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
			return 0
		fi
		kill -0 "$BROKER_PID" 2>/dev/null || break
		sleep 0.05
	done
	fail "broker did not start: $(cat "$TMP/broker.stderr")"
	return 1
}
kill_broker() {
	kill -9 "$BROKER_PID" 2>/dev/null
	wait "$BROKER_PID" 2>/dev/null
	BROKER_PID=
}
restart() {
	kill_broker
	start_broker
}

msub() { timeout -k 1 10 mosquitto_sub -h 127.0.0.1 -p "$PORT" "$@"; }
mpub() { timeout -k 1 10 mosquitto_pub -h 127.0.0.1 -p "$PORT" "$@"; }

start_broker || exit 1
grep -q "autosave_interval and autosave_on_changes are ignored" "$TMP/broker.log" &&
	pass "mosquitto's autosave_interval is accepted and explained" ||
	fail "no log line explaining autosave_interval"

# ---- retained messages (and a cleared one stays cleared) ----------------------------------
mpub -q 1 -r -t rs/keep -m kept
mpub -q 1 -r -t rs/clear -m soon-gone
mpub -q 1 -r -t rs/clear -n
restart
got=$(msub -t 'rs/#' -W 2 -F '%r %t %p' 2>/dev/null)
[[ $got == "1 rs/keep kept" ]] && pass "retained message restored, cleared one stays cleared" ||
	fail "retained after restart: got '$got'"

# ---- a persistent 3.1.1 session: subscriptions and queued QoS 1/2 messages -----------------
msub -c -i rs-sub -q 2 -t 'rs/q/#' -t 'rs/x/+' -E
mpub -q 1 -t rs/q/a -m one
mpub -q 2 -t rs/x/b -m two
mpub -q 0 -t rs/q/c -m qos0-not-kept
restart
got=$(msub -c -i rs-sub -q 2 -t 'rs/q/#' -C 2 -W 5 -F '%q %t %p' 2>/dev/null)
[[ $got == $'1 rs/q/a one\n2 rs/x/b two' ]] &&
	pass "persistent session: queued QoS 1 and 2 messages delivered after restart" ||
	fail "queued after restart: got '$got'"
grep -q "\[rs-sub .*session resumed" "$TMP/broker.log" &&
	pass "persistent session resumed (session present)" || fail "rs-sub not resumed"
# The subscriptions came back too, without subscribing again: a new message reaches it.
restart
mpub -q 1 -t rs/x/z -m three
got=$(timeout -k 1 10 mosquitto_sub -h 127.0.0.1 -p "$PORT" -c -i rs-sub -q 2 -t 'rs/none' -C 1 -W 5 -F '%t %p' 2>/dev/null)
[[ $got == "rs/x/z three" ]] && pass "restored subscription rs/x/+ routes new messages" ||
	fail "restored subscription: got '$got'"

# ---- MQTT 5 session expiry goes on from the stored deadline ------------------------------
msub -V 5 -c -i rs-v5-long -x 600 -q 1 -t rs/v5 -E
msub -V 5 -c -i rs-v5-short -x 2 -q 1 -t rs/v5 -E
mpub -V 5 -q 1 -t rs/v5 -m for-both
kill_broker
sleep 2.5 # rs-v5-short's 2 s run out while the broker is down
start_broker
got_long=$(msub -V 5 -c -i rs-v5-long -x 600 -q 1 -t rs/v5 -C 1 -W 5 -F '%p' 2>/dev/null)
got_short=$(msub -V 5 -c -i rs-v5-short -x 2 -q 1 -t rs/v5 -C 1 -W 1 -F '%p' 2>/dev/null)
[[ $got_long == for-both && -z $got_short ]] &&
	pass "session expiry counted across the downtime (600 s kept, 2 s expired)" ||
	fail "v5 expiry: long '$got_long' short '$got_short'"
grep -q "\[rs-v5-short .*new session" "$TMP/broker.log" &&
	pass "expired session is gone (new session)" || fail "rs-v5-short resumed"

# ---- MQTT-SN topic ids keep their numbers ------------------------------------------------
regack_id() { # TOPIC -> the topic id the broker registered
	timeout -k 1 10 "$FPUB" --sn -h 127.0.0.1 -p "$SN_PORT" -d -q 1 -t "$1" -m x 2>&1 |
		sed -n 's/.*received REGACK (TopicId: \([0-9]*\),.*/\1/p'
}
id_a=$(regack_id rs/sn/a)
id_b=$(regack_id rs/sn/b)
restart
id_c=$(regack_id rs/sn/c)
id_a2=$(regack_id rs/sn/a)
id_b2=$(regack_id rs/sn/b)
if [[ -n $id_a && -n $id_b && $id_a2 == "$id_a" && $id_b2 == "$id_b" && -n $id_c &&
	$id_c != "$id_a" && $id_c != "$id_b" ]]; then
	pass "MQTT-SN topic ids kept across restart ($id_a $id_b, new $id_c)"
else
	fail "topic ids: before $id_a $id_b, after $id_a2 $id_b2, new $id_c"
fi

# ---- a persistent MQTT-SN session gets what was queued while the broker restarted --------
timeout -k 1 10 "$FSUB" --sn -h 127.0.0.1 -p "$SN_PORT" -c -i rs-sn-sub -q 1 -t rs/sn/q -W 1 \
	>/dev/null 2>&1
mpub -q 1 -t rs/sn/q -m for-sn
restart
got=$(timeout -k 1 10 "$FSUB" --sn -h 127.0.0.1 -p "$SN_PORT" -c -i rs-sn-sub -q 1 -t rs/sn/q \
	-C 1 -W 5 -v 2>/dev/null)
[[ $got == "rs/sn/q for-sn" ]] && pass "MQTT-SN persistent session: queued message after restart" ||
	fail "MQTT-SN queued after restart: got '$got'"

# ---- a delayed will of a persistent session survives the restart ------------------------
# The will client is killed (no DISCONNECT): its will waits 3 s [MQTT-3.1.3-9]; the broker
# is killed within that delay and the will still comes, from the restarted broker.
# Started directly (not under timeout, whose SIGKILL would not reach it); -W bounds its life.
mosquitto_sub -h 127.0.0.1 -p "$PORT" -V 5 -c -i rs-will -x 600 -t rs/none -W 20 \
	--will-topic rs/will --will-payload bye --will-qos 1 -D will will-delay-interval 3 \
	>/dev/null 2>&1 &
will_pid=$!
CLIENT_PIDS+=("$will_pid")
for _ in $(seq 100); do
	grep -q "\[rs-will .*connected" "$TMP/broker.log" && break
	sleep 0.05
done
kill -9 "$will_pid"
wait "$will_pid" 2>/dev/null
for _ in $(seq 100); do # the broker saw the connection end: the will is pending
	grep -q "\[rs-will .*disconnected" "$TMP/broker.log" && break
	sleep 0.05
done
msub -c -i rs-will-watch -q 1 -t rs/will -E
restart
got=$(msub -c -i rs-will-watch -q 1 -t rs/will -C 1 -W 8 -F '%t %p' 2>/dev/null)
[[ $got == "rs/will bye" ]] && pass "delayed will published after the restart" ||
	fail "delayed will: got '$got'"

# ---- refused stores: the daemon exits non-zero and says why; the store is left alone -----
second=$("$BIN" -c "$TMP/broker.conf" 2>&1)
rc=$?
[[ $rc != 0 ]] && grep -q "in use by another mqtt-fast process" "$TMP/broker.log" &&
	pass "a second broker on the same store is refused (exit $rc)" ||
	fail "second broker on the store: exit $rc: $second"
kill_broker
cp -a "$TMP/store" "$TMP/store.good"
head -c 8192 /dev/urandom >"$TMP/store/data.mdb"
sum_before=$(md5sum <"$TMP/store/data.mdb")
out=$(timeout -k 1 10 "$BIN" -c "$TMP/broker.conf" 2>&1)
rc=$?
if [[ $rc != 0 ]] && grep -q "corrupt or not an LMDB store.*refusing to start" "$TMP/broker.log" &&
	[[ $(md5sum <"$TMP/store/data.mdb") == "$sum_before" ]]; then
	pass "a corrupt store is refused (exit $rc, $out) and left as it was"
else
	fail "corrupt store: exit $rc: $out"
fi
rm -rf "$TMP/store"
mv "$TMP/store.good" "$TMP/store"
start_broker

# ---- a clean stop commits and exits 0 ----------------------------------------------------
kill -TERM "$BROKER_PID"
wait "$BROKER_PID"
rc=$?
BROKER_PID=
[[ $rc == 0 ]] && pass "clean stop exits 0" || fail "broker exit status $rc after SIGTERM"

echo "restart.sh: $PASSED passed, $FAILED failed"
[[ $FAILED == 0 ]]
