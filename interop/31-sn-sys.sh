#!/usr/bin/env bash
# 31-sn-sys: the MQTT-SN gateway's counters under $SYS/broker/mqttsn/ (sys_interval 1), seen by
# mosquitto_sub: every counter is published, and they move with the traffic that mqtt-fast-pub
# --sn / mqtt-fast-sub --sn and raw datagrams over bash /dev/udp make (a malformed datagram,
# a reserved message type, a message from an unknown address, QoS -1, REGISTER + PUBLISH).
. "$(dirname "$0")/lib.sh"

MQTT_FAST_PUB=${MQTT_FAST_PUB:-$IOP_SRC/build/tools/mqtt-fast-pub}
MQTT_FAST_SUB=${MQTT_FAST_SUB:-$IOP_SRC/build/tools/mqtt-fast-sub}
for bin in "$MQTT_FAST_PUB" "$MQTT_FAST_SUB"; do
	[[ -x $bin ]] || fail "'$bin' not found (set MQTT_FAST_PUB, MQTT_FAST_SUB)"
done

# Outside the 21000 + N*10 range of the MQTT scenarios: the MQTT-SN tests use 23000 and up.
PORT=23310              # MQTT over TCP
SN_PORT=$((PORT + 1))   # MQTT-SN over UDP
start_broker "$PORT" "sys_interval 1" "listener $SN_PORT 127.0.0.1" "protocol mqttsn" \
	"sn_predefined_topic 7 other31/predefined"

SN_COUNTERS=(datagrams/received datagrams/sent datagrams/send_errors datagrams/malformed
	datagrams/unknown_type datagrams/unknown_client publish/qos_m1/received
	publish/qos_m1/dropped publish/received publish/sent register/sent register/rejected
	retransmissions clients/lost clients/connected topics/registered)

# Sends hex bytes as one datagram to the gateway.
udp_send() { # HEX
	local fmt='' b
	for b in $1; do
		fmt+="\\x$b"
	done
	# shellcheck disable=SC2059 # the format is the data
	printf "$fmt" >"/dev/udp/127.0.0.1/$SN_PORT" || fail "cannot send to UDP port $SN_PORT"
}

# The last value of $SYS/broker/mqttsn/NAME in the subscriber output FILE (empty if none).
sn_value() { # FILE NAME
	grep -E "^\\\$SYS/broker/mqttsn/$(re_quote "$2") [0-9]+\$" "$1" | tail -n 1 | cut -d' ' -f2
}

# Waits until $SYS/broker/mqttsn/NAME shows a value >= MIN in FILE.
expect_at_least() { # FILE NAME MIN
	local file=$1 name=$2 min=$3 deadline=$(($(now_ms) + IOP_WAIT * 1000)) v
	while :; do
		v=$(sn_value "$file" "$name")
		[[ -n $v ]] && ((v >= min)) && return 0
		if (($(now_ms) >= deadline)); then
			fail "\$SYS/broker/mqttsn/$name: expected at least $min within $IOP_WAIT s, last value '${v}'"
		fi
		sleep 0.05
	done
}

every_counter() {
	# The retained values are there for a new subscriber at once.
	sub_start s31-all -v -t '$SYS/broker/mqttsn/#' -C ${#SN_COUNTERS[@]}
	sub_collect "$SUB_PID" "$SUB_OUT"
	local name names
	names=$(cut -d' ' -f1 <<<"$SUB_RESULT" | sort)
	assert_lines "$(printf '$SYS/broker/mqttsn/%s\n' "${SN_COUNTERS[@]}" | sort)" "$names" \
		"the \$SYS/broker/mqttsn/ topics"
	for name in "${SN_COUNTERS[@]}"; do
		assert_match '^[0-9]+$' "$(sn_value "$SUB_OUT" "$name")" "value of $name"
	done
}

dropped_datagrams() {
	SUB_TIMEOUT=15 sub_start s31-drop -v -t '$SYS/broker/mqttsn/#'
	local out=$SUB_OUT
	expect_line "$out" '^\$SYS/broker/mqttsn/datagrams/malformed [0-9]+$'
	local malformed unknown_type unknown_client received
	malformed=$(sn_value "$out" datagrams/malformed)
	unknown_type=$(sn_value "$out" datagrams/unknown_type)
	unknown_client=$(sn_value "$out" datagrams/unknown_client)
	received=$(sn_value "$out" datagrams/received)
	udp_send "05 0c 00"    # a PUBLISH whose Length says 5 bytes, 3 sent
	udp_send "03 03 00"    # MsgType 0x03 is reserved
	udp_send "02 16"       # PINGREQ from an address with no session
	expect_at_least "$out" datagrams/malformed $((malformed + 1))
	expect_at_least "$out" datagrams/unknown_type $((unknown_type + 1))
	expect_at_least "$out" datagrams/unknown_client $((unknown_client + 1))
	expect_at_least "$out" datagrams/received $((received + 3))
	assert_broker_alive
}

publish_counters() {
	SUB_TIMEOUT=20 sub_start s31-pub -v -t '$SYS/broker/mqttsn/#'
	local out=$SUB_OUT
	expect_line "$out" '^\$SYS/broker/mqttsn/topics/registered [0-9]+$'
	local pub_rx qm1 sent topics reg connected
	pub_rx=$(sn_value "$out" publish/received)
	qm1=$(sn_value "$out" publish/qos_m1/received)
	sent=$(sn_value "$out" datagrams/sent)
	topics=$(sn_value "$out" topics/registered)
	reg=$(sn_value "$out" register/sent)
	connected=$(sn_value "$out" clients/connected)

	# An SN subscriber stays connected: clients/connected counts it; the PUBLISH of a topic
	# it has no id for yet comes after a REGISTER from the gateway.
	local fsub_out=$IOP_TMP/s31-snsub.out fsub_err=$IOP_TMP/s31-snsub.err
	"$MQTT_FAST_SUB" --sn -p "$SN_PORT" -h 127.0.0.1 -i s31-snsub -t 'sn31/#' -v -C 1 -d \
		>"$fsub_out" 2>"$fsub_err" &
	local fsub_pid=$!
	CASE_PIDS+=("$fsub_pid")
	echo "$fsub_pid" >>"$IOP_PIDFILE"
	expect_line "$fsub_err" 'received SUBACK'
	expect_at_least "$out" clients/connected $((connected + 1))

	"$MQTT_FAST_PUB" --sn -p "$SN_PORT" -h 127.0.0.1 -i s31-snpub -t sn31/temp -m 21.5 -q 1 ||
		fail "mqtt-fast-pub --sn -q 1 failed"
	"$MQTT_FAST_PUB" --sn -p "$SN_PORT" -h 127.0.0.1 --sn-topic-id 7 -m qm1 -q -1 ||
		fail "mqtt-fast-pub --sn -q -1 failed"
	sub_collect "$fsub_pid" "$fsub_out"
	assert_eq "sn31/temp 21.5" "$SUB_RESULT" "what the MQTT-SN subscriber received"

	expect_at_least "$out" publish/received $((pub_rx + 2))
	expect_at_least "$out" publish/qos_m1/received $((qm1 + 1))
	expect_at_least "$out" publish/sent 1
	expect_at_least "$out" register/sent $((reg + 1))
	expect_at_least "$out" topics/registered $((topics + 1))
	# CONNACK, REGACK, PUBACK, DISCONNECT to the publisher; CONNACK, SUBACK, REGISTER,
	# PUBLISH, DISCONNECT to the subscriber.
	expect_at_least "$out" datagrams/sent $((sent + 9))
	assert_broker_alive
}

run_case "\$SYS/broker/mqttsn/# publishes every gateway counter" every_counter
run_case "malformed, reserved-type and unknown-client datagrams are counted" dropped_datagrams
run_case "publish, QoS -1, REGISTER, clients and topic counters follow SN traffic" \
	publish_counters
finish
