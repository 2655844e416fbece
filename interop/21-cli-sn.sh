#!/usr/bin/env bash
# 21-cli-sn: the MQTT-SN gateway through the command-line tools: mqtt-fast-pub --sn at QoS
# -1/0/1/2 -> mosquitto_sub, mosquitto_pub -> mqtt-fast-sub --sn with `+` and `#`, a retained
# MQTT message to a later SN subscriber (RETAIN flag set), and mqtt-fast-sub --sn --sleep
# receiving the messages buffered while it slept, in order.
. "$(dirname "$0")/lib.sh"

MQTT_FAST_PUB=${MQTT_FAST_PUB:-$IOP_SRC/build/tools/mqtt-fast-pub}
MQTT_FAST_SUB=${MQTT_FAST_SUB:-$IOP_SRC/build/tools/mqtt-fast-sub}
for bin in "$MQTT_FAST_PUB" "$MQTT_FAST_SUB"; do
	[[ -x $bin ]] || fail "'$bin' not found (set MQTT_FAST_PUB, MQTT_FAST_SUB)"
done

PORT=23040          # MQTT (the MQTT-SN tests use 23000 + N*10)
SN_PORT=$((PORT + 1)) # MQTT-SN

start_broker "$PORT" "listener $SN_PORT 127.0.0.1" "protocol mqttsn" \
	"sn_predefined_topic 7 21/sn/pre" "sn_retry_interval 1"

# mqtt-fast-sub --sn -d in the background; ready once the broker logged each subscription.
# Sets FSUB_PID, FSUB_OUT, FSUB_ERR.
fsub_sn_start() { # ID ARGS...
	local id=$1 a nsubs=0 mark
	shift
	for a in "$@"; do
		[[ $a == -t ]] && nsubs=$((nsubs + 1))
	done
	mark=$(($(log_mark) + 1))
	FSUB_OUT=$IOP_TMP/$id.out FSUB_ERR=$IOP_TMP/$id.err
	timeout -k 1 20 "$MQTT_FAST_SUB" --sn -h 127.0.0.1 -p "$SN_PORT" -i "$id" -d "$@" \
		>"$FSUB_OUT" 2>"$FSUB_ERR" &
	FSUB_PID=$!
	CASE_PIDS+=("$FSUB_PID")
	echo "$FSUB_PID" >>"$IOP_PIDFILE"
	wait_for_line "$BROKER_LOG" "\[$(re_quote "$id") [^]]*\] subscribed to .*MQTT-SN" \
		"$IOP_WAIT" "$mark" "$nsubs" || {
		sed 's/^/  | /' "$FSUB_ERR" >&2
		fail "mqtt-fast-sub --sn $id did not subscribe"
	}
}

fpub_sn() { # ARGS...
	local out
	out=$(timeout -k 1 10 "$MQTT_FAST_PUB" --sn -h 127.0.0.1 -p "$SN_PORT" "$@" 2>&1) ||
		fail "mqtt-fast-pub --sn $* failed: $out"
}

mpub() { # ARGS...
	local out
	out=$(timeout -k 1 10 mosquitto_pub -h 127.0.0.1 -p "$PORT" "$@" 2>&1) ||
		fail "mosquitto_pub $* failed: $out"
}

fpub_sn_to_mosquitto_sub() {
	local t=21/sn/fp q
	# One subscriber per flow: mosquitto_sub prints a QoS 2 message at PUBREL, so a QoS 0
	# message sent right after it may be printed first.
	sub_start ms-fp -q 2 -C 3 -t "$t" -F '%q %t %p'
	for q in 0 1 2; do
		fpub_sn -q "$q" -t "$t" -m "m$q"
	done
	sub_collect "$SUB_PID" "$SUB_OUT" 10
	assert_lines "0 $t m0
1 $t m1
2 $t m2" "$SUB_RESULT" "mqtt-fast-pub --sn QoS 0/1/2 -> mosquitto_sub"
	sub_start ms-pre -q 1 -C 2 -t 21/sn/pre -F '%q %t %p'
	fpub_sn -q -1 --sn-topic-id 7 -m "m-1" # QoS -1 needs a predefined id or a short name
	fpub_sn -q 1 --sn-topic-id 7 -m "pre1"
	sub_collect "$SUB_PID" "$SUB_OUT" 10
	assert_lines "0 21/sn/pre m-1
1 21/sn/pre pre1" "$SUB_RESULT" "mqtt-fast-pub --sn QoS -1 and a predefined id -> mosquitto_sub"
}

mosquitto_pub_to_fsub_sn_wildcards() {
	fsub_sn_start fs-wild -q 1 -C 4 -v -t '21/sn/w/+/x' -t '21/sn/h/#'
	mpub -q 0 -t 21/sn/w/a/x -m one
	mpub -q 1 -t 21/sn/h/b/c -m two
	mpub -q 1 -t 21/sn/w/a/y -m not-matched
	mpub -q 2 -t 21/sn/h -m three
	mpub -q 1 -t 21/sn/w/a/x -m four
	collect_fsub 10
	assert_lines "21/sn/w/a/x one
21/sn/h/b/c two
21/sn/h three
21/sn/w/a/x four" "$RESULT" "mosquitto_pub -> mqtt-fast-sub --sn with + and #"
	# Each new topic was registered by the gateway before its first PUBLISH (§6.10).
	expect_line "$FSUB_ERR" "received REGISTER .*'21/sn/w/a/x'"
	expect_line "$FSUB_ERR" "received REGISTER .*'21/sn/h/b/c'"
	assert_eq 3 "$(grep -c 'received REGISTER' "$FSUB_ERR")" "one REGISTER per topic"
	first_reg=$(grep -n "received REGISTER .*'21/sn/w/a/x'" "$FSUB_ERR" | head -1 | cut -d: -f1)
	first_pub=$(grep -n "received PUBLISH" "$FSUB_ERR" | head -1 | cut -d: -f1)
	assert_le "$first_reg" "$first_pub" "REGISTER before the first PUBLISH"
}

collect_fsub() { # TIMEOUT
	local rc
	wait_pid "$FSUB_PID" "$1"
	rc=$?
	RESULT=$(cat "$FSUB_OUT")
	if [[ $rc -ne 0 ]]; then
		sed 's/^/  | /' "$FSUB_ERR" >&2
		fail "mqtt-fast-sub exited $rc (output: $RESULT)"
	fi
}

retained_to_sn_subscriber() {
	mpub -r -q 1 -t 21/sn/ret -m kept
	fsub_sn_start fs-ret -q 1 -C 1 -v -t 21/sn/ret
	collect_fsub 10
	assert_eq "21/sn/ret kept" "$RESULT" "retained MQTT message -> later mqtt-fast-sub --sn"
	expect_line "$FSUB_ERR" "received PUBLISH \(d0, q1, r1, "
	mpub -r -n -t 21/sn/ret
}

sleeping_sn_subscriber() {
	local mark
	mark=$(($(log_mark) + 1))
	fsub_sn_start fs-sleep -q 1 -C 4 -v -t 21/sn/sleep --sleep 4
	wait_for_line "$BROKER_LOG" "\[fs-sleep [^]]*\] asleep for 4 s" "$IOP_WAIT" "$mark" ||
		fail "mqtt-fast-sub --sleep did not go to sleep"
	mpub -q 1 -t 21/sn/sleep -m s1
	mpub -q 0 -t 21/sn/sleep -m s2
	mpub -q 1 -t 21/sn/sleep -m s3
	mpub -q 2 -t 21/sn/sleep -m s4
	collect_fsub 15
	assert_lines "21/sn/sleep s1
21/sn/sleep s2
21/sn/sleep s3
21/sn/sleep s4" "$RESULT" "mqtt-fast-sub --sn --sleep receives the buffered messages in order"
	# All four came in one wake-up, PINGRESP after them (§6.14).
	local last_pub pingresp
	last_pub=$(grep -n "received PUBLISH" "$FSUB_ERR" | tail -1 | cut -d: -f1)
	pingresp=$(grep -n "received PINGRESP" "$FSUB_ERR" | tail -1 | cut -d: -f1)
	[[ -z $pingresp ]] || assert_le "$last_pub" "$pingresp" "PINGRESP after the buffered messages"
}

run_case "mqtt-fast-pub --sn -> mosquitto_sub" fpub_sn_to_mosquitto_sub
run_case "mosquitto_pub -> mqtt-fast-sub --sn (+, #)" mosquitto_pub_to_fsub_sn_wildcards
run_case "retained message -> mqtt-fast-sub --sn" retained_to_sn_subscriber
run_case "mqtt-fast-sub --sn --sleep" sleeping_sn_subscriber
assert_broker_alive
finish
