#!/usr/bin/env bash
# 11-malformed-raw: a table of malformed packets and protocol violations, each sent on its own
# raw connection right after a valid CONNECT. Expected: MQTT 3.1.1 - the connection is closed
# with nothing sent [MQTT-4.8.0-1 (3.1.1)]; MQTT 5 - DISCONNECT with the exact reason code
# (0x81 Malformed Packet, 0x82 Protocol Error, 0x94 Topic Alias invalid) and a Reason String,
# then close [MQTT-4.13.1-1]. Meanwhile another client's subscription keeps working and the broker lives.
. "$(dirname "$0")/lib.sh"

PORT=$(iop_port 11)
start_broker "$PORT"

# name|versions|MQTT 5 reason|spec clause. Bytes come from row_hex NAME VERSION.
TABLE=(
	"publish-qos3|4 5|81|[MQTT-3.3.1-4]"
	"subscribe-flags-0|4 5|81|[MQTT-3.8.1-1]"
	"unsubscribe-flags-0|4 5|81|[MQTT-3.10.1-1]"
	"pubrel-flags-0|4 5|81|[MQTT-3.6.1-1]"
	"pingreq-flags-1|4 5|81|[MQTT-2.2.2-2 (3.1.1)], 5.0 §2.1.3"
	"pingreq-with-body|4 5|81|3.1.1 §3.12.1, 5.0 §3.12"
	"remaining-length-5-bytes|4 5|81|[MQTT-1.5.5-1] (5.0), 3.1.1 §2.2.3"
	"topic-overruns-packet|4 5|81|5.0 §1.5.4, 3.1.1 §1.5.3"
	"topic-utf8-overlong|4 5|81|[MQTT-1.5.4-1] (5.0), [MQTT-1.5.3-1] (3.1.1)"
	"topic-utf8-surrogate|4 5|81|[MQTT-1.5.4-1] (5.0), [MQTT-1.5.3-1] (3.1.1)"
	"topic-nul|4 5|81|[MQTT-1.5.4-2] (5.0), [MQTT-1.5.3-2] (3.1.1)"
	"subscribe-no-filter|4 5|82|[MQTT-3.8.3-2] (5.0), [MQTT-3.8.3-3] (3.1.1)"
	"unsubscribe-no-filter|4 5|82|[MQTT-3.10.3-2]"
	"subscribe-qos3|4 5|82|[MQTT-3-8.3-4] (3.1.1), 5.0 §3.8.3.1 (Maximum QoS 3: Protocol Error)"
	"subscribe-reserved-bits|4 5|81|[MQTT-3.8.3-5] (5.0), [MQTT-3-8.3-4] (3.1.1)"
	"subscribe-retain-handling-3|5|82|5.0 §3.8.3.1"
	"subscribe-shared-no-local|5|82|[MQTT-3.8.3-4] (5.0)"
	"publish-packet-id-0|4 5|82|[MQTT-2.2.1-3] (5.0), [MQTT-2.3.1-1] (3.1.1)"
	"subscribe-packet-id-0|4 5|82|[MQTT-2.2.1-3] (5.0), [MQTT-2.3.1-1] (3.1.1)"
	"connack-from-client|4 5|82|5.0 §2.1.2, 3.1.1 §2.2.1"
	"auth-packet|4 5|82|3.1.1 §2.2.1 reserved type 15; 5.0 [MQTT-4.12.0-1]"
	"reserved-type-0|4 5|81|5.0 §2.1.2 and §4.13, 3.1.1 §2.2.1"
	"topic-alias-0|5|94|[MQTT-3.3.2-8]"
	"topic-alias-over-max|5|94|[MQTT-3.3.2-9]"
	"topic-alias-unknown|5|82|5.0 §3.3.2.3.4"
	"publish-empty-topic|4 5|82|[MQTT-4.7.3-1], 5.0 §3.3.2.1"
	"publish-subscription-id|5|82|[MQTT-3.3.4-6]"
	"publish-duplicate-property|5|82|5.0 §3.3.2.3.2 (Payload Format Indicator twice)"
	"puback-trailing-byte|4|81|3.1.1 §3.4.1 (Remaining Length 2)"
)

row_hex() { # NAME VERSION
	local p=""
	[[ $2 == 5 ]] && p="00"
	case $1 in
	publish-qos3) mk_packet 36 "$(mqtt_str 11/x) 00 01 $p 78" ;;
	subscribe-flags-0) mk_packet 80 "00 01 $p $(mqtt_str 11/x) 00" ;;
	unsubscribe-flags-0) mk_packet a0 "00 01 $p $(mqtt_str 11/x)" ;;
	pubrel-flags-0) echo "60 02 00 01" ;;
	pingreq-flags-1) echo "c1 00" ;;
	pingreq-with-body) echo "c0 01 00" ;;
	remaining-length-5-bytes) echo "30 ff ff ff ff 7f" ;;
	topic-overruns-packet) echo "30 03 00 05 61" ;;
	topic-utf8-overlong) mk_packet 30 "00 02 c0 af $p 78" ;;
	topic-utf8-surrogate) mk_packet 30 "00 03 ed a0 80 $p 78" ;;
	topic-nul) mk_packet 30 "00 03 61 00 62 $p 78" ;;
	subscribe-no-filter) mk_packet 82 "00 01 $p" ;;
	unsubscribe-no-filter) mk_packet a2 "00 01 $p" ;;
	subscribe-qos3) mk_packet 82 "00 01 $p $(mqtt_str 11/x) 03" ;;
	subscribe-reserved-bits) [[ $2 == 5 ]] && mk_packet 82 "00 01 00 $(mqtt_str 11/x) c0" ||
		mk_packet 82 "00 01 $(mqtt_str 11/x) 04" ;;
	subscribe-retain-handling-3) mk_packet 82 "00 01 00 $(mqtt_str 11/x) 30" ;;
	subscribe-shared-no-local) mk_packet 82 "00 01 00 $(mqtt_str '$share/g/11/x') 04" ;;
	publish-packet-id-0) mk_packet 32 "$(mqtt_str 11/x) 00 00 $p 78" ;;
	subscribe-packet-id-0) mk_packet 82 "00 00 $p $(mqtt_str 11/x) 00" ;;
	connack-from-client) [[ $2 == 5 ]] && echo "20 03 00 00 00" || echo "20 02 00 00" ;;
	auth-packet) echo "f0 00" ;;
	reserved-type-0) echo "00 00" ;;
	topic-alias-0) mk_packet 30 "$(mqtt_str 11/x) 03 23 00 00 78" ;;
	topic-alias-over-max) mk_packet 30 "$(mqtt_str 11/x) 03 23 00 0b 78" ;;
	topic-alias-unknown) mk_packet 30 "00 00 03 23 00 05 78" ;;
	publish-empty-topic) mk_packet 30 "00 00 $p 78" ;;
	publish-subscription-id) mk_packet 30 "$(mqtt_str 11/x) 02 0b 01 78" ;;
	publish-duplicate-property) mk_packet 30 "$(mqtt_str 11/x) 04 01 00 01 00 78" ;;
	puback-trailing-byte) echo "40 03 00 01 00" ;;
	*) fail "no bytes for row $1" ;;
	esac
}

check_row() { # name versions rc clause
	local name=$1 versions=$2 rc=$3 clause=$4 v bytes
	for v in $versions; do
		bytes=$(row_hex "$name" "$v")
		raw_session "$v" "m11-$name-v$v"
		raw_send "$RAW_FD" "$bytes" || fail "$name: could not send"
		if [[ $v == 5 ]]; then
			raw_expect_reason "$RAW_FD" e0 "$rc" \
				"$name (5.0, sent $bytes): DISCONNECT 0x$rc $clause"
		fi
		raw_expect_eof "$RAW_FD" "$name (v$v, sent $bytes) $clause"
		assert_broker_alive
	done
}

sub_start m11-observer -q 1 -t 11/alive -C 1 -F '%t|%p'
OBS_PID=$SUB_PID OBS_OUT=$SUB_OUT

for row in "${TABLE[@]}"; do
	IFS='|' read -r name versions rc clause <<<"$row"
	run_case "$name ($versions): close / DISCONNECT 0x$rc" check_row "$name" "$versions" "$rc" "$clause"
done

still_working() {
	assert_broker_alive
	pub -q 1 -t 11/alive -m yes
	# (started by the script, not this case: watch its output rather than wait for it)
	expect_line "$OBS_OUT" '^11/alive\|yes$'
	assert_eq "11/alive|yes" "$(cat "$OBS_OUT")" "the observer connected before the table still gets messages"
	sub_start m11-after -t 11/after -C 1
	pub -t 11/after -m fine
	sub_collect "$SUB_PID" "$SUB_OUT"
	assert_eq fine "$SUB_RESULT" "a new client after the table"
}
run_case "another client keeps working" still_working
finish
