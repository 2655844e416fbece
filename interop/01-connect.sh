#!/usr/bin/env bash
# 01-connect: CONNECT/CONNACK for MQTT 3.1, 3.1.1 and 5 with mosquitto clients and raw bytes:
# the exact CONNACK of each version, unsupported protocol names/levels, client identifier rules,
# malformed CONNECT flags, and what may (not) come before or after CONNECT.
. "$(dirname "$0")/lib.sh"

PORT=$(iop_port 1)
start_broker "$PORT"

mosquitto_roundtrip() { # -V value, broker log name of the version
	local v=$1 name=$2 id=c01-$1
	sub_start "$id" -V "$v" -C 1 -t "01/$v"
	pub -V "$v" -i "p01-$v" -t "01/$v" -m "hello $v"
	sub_collect "$SUB_PID" "$SUB_OUT"
	assert_eq "hello $v" "$SUB_RESULT" "message received by a $v subscriber"
	expect_line "$BROKER_LOG" "\[$id [^]]*\] connected: MQTT $(re_quote "$name"), new session"
	expect_line "$BROKER_LOG" "\[p01-$v [^]]*\] connected: MQTT $(re_quote "$name"), new session"
}

raw_connack() { # version, expected CONNACK
	raw_open
	raw_send "$RAW_FD" "$(mk_connect "$1" "raw-v$1")"
	raw_expect "$RAW_FD" "$2" "CONNACK for a level-$1 CONNECT"
	# A normal DISCONNECT: the broker closes the connection [MQTT-3.14.4-1].
	raw_send "$RAW_FD" "e0 00"
	raw_expect_eof "$RAW_FD" "after DISCONNECT (level $1)"
}

# Protocol name and level the broker does not speak: CONNACK (when the version can be guessed)
# then close [MQTT-3.1.2-2] (3.1.1: 0x01; 5.0: 0x84).
raw_refused() { # protocol name, level byte, expected reply ("" = none), what
	raw_open
	raw_send "$RAW_FD" "$(mk_packet 10 "$(mqtt_str "$1") $2 02 00 3c $(mqtt_str x)")"
	[[ -n $3 ]] && raw_expect "$RAW_FD" "$3" "$4"
	raw_expect_eof "$RAW_FD" "$4: connection closed after the refusal"
}

unsupported_versions() {
	raw_refused MQTT 06 "20 03 00 84 00" "MQTT level 6 (5.0-style CONNACK 0x84)"
	raw_refused MQTT 03 "20 02 00 01" "name MQTT with level 3 (3.1 expects MQIsdp)"
	raw_refused MQIsdp 04 "20 02 00 01" "name MQIsdp with level 4"
	raw_refused MQTX 04 "20 02 00 01" "unknown protocol name MQTX, level 4"
}

client_ids() {
	# 3.1: 1..23 characters; 0x02 Identifier rejected otherwise (MQTT 3.1 §3.1).
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 3 "")"
	raw_expect "$RAW_FD" "20 02 00 02" "3.1 empty client id"
	raw_expect_eof "$RAW_FD" "3.1 empty client id"
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 3 "abcdefghijklmnopqrstuvwx")"
	raw_expect "$RAW_FD" "20 02 00 02" "3.1 client id of 24 characters"
	raw_expect_eof "$RAW_FD" "3.1 client id of 24 characters"
	# 3.1.1: empty id only with Clean Session [MQTT-3.1.3-7], [MQTT-3.1.3-8].
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 4 "" 00)"
	raw_expect "$RAW_FD" "20 02 00 02" "3.1.1 empty client id without Clean Session"
	raw_expect_eof "$RAW_FD" "3.1.1 empty client id without Clean Session"
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 4 "" 02)"
	raw_expect "$RAW_FD" "20 02 00 00" "3.1.1 empty client id with Clean Session"
	raw_close "$RAW_FD"
	# 5.0: the server assigns one and returns it (0x12 Assigned Client Identifier)
	# [MQTT-3.1.3-7]; auto_id_prefix defaults to "auto-".
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 5 "" 02)"
	raw_read_packet "$RAW_FD" || fail "no CONNACK for an empty 5.0 client id"
	assert_match "^20 .. 00 00 .. 12 00 .. $(hex_of auto-)" "$RAW_PKT" \
		"5.0 CONNACK with an Assigned Client Identifier auto-*"
	raw_close "$RAW_FD"
}

malformed_connect() {
	# Reserved flag bit set [MQTT-3.1.2-3]: 3.1.1 closes without CONNACK, 5.0 answers 0x81.
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 4 bad-flags 03)"
	raw_expect_eof "$RAW_FD" "3.1.1 CONNECT with the reserved flag set"
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 5 bad-flags 03)"
	raw_expect_reason "$RAW_FD" 20 81 "5.0 CONNECT with the reserved flag set"
	raw_expect_eof "$RAW_FD" "5.0 CONNECT with the reserved flag set"
	# Will QoS 3 [MQTT-3.1.2-14] (5.0: -12).
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 5 will-qos3 1e 60 "" "00 $(mqtt_str w) $(mqtt_str x)")"
	raw_expect_reason "$RAW_FD" 20 81 "5.0 CONNECT with Will QoS 3"
	raw_expect_eof "$RAW_FD" "5.0 CONNECT with Will QoS 3"
	# Will Retain without the Will flag [MQTT-3.1.2-15].
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 4 will-retain 22)"
	raw_expect_eof "$RAW_FD" "3.1.1 CONNECT with Will Retain but no Will"
	# Password without user name in 3.1.1 [MQTT-3.1.2-22].
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 4 pw-only 42 60 "" "$(mqtt_str secret)")"
	raw_expect_eof "$RAW_FD" "3.1.1 CONNECT with a password but no user name"
	# Truncated: Remaining Length says more than the client id holds.
	raw_open
	raw_send "$RAW_FD" "10 0f 00 04 4d 51 54 54 04 02 00 3c 00 05 61 62 63 64 65"
	raw_send "$RAW_FD" "c0 00"
	raw_expect_eof "$RAW_FD" "3.1.1 CONNECT whose client id overruns the packet"
}

order_of_packets() {
	# The first packet must be CONNECT [MQTT-3.1.0-1].
	raw_open
	raw_send "$RAW_FD" "c0 00"
	raw_expect_eof "$RAW_FD" "PINGREQ before CONNECT"
	raw_open
	raw_send "$RAW_FD" "$(mk_packet 30 "$(mqtt_str 01/early) 78")"
	raw_expect_eof "$RAW_FD" "PUBLISH before CONNECT"
	# A second CONNECT is a protocol violation [MQTT-3.1.0-2].
	raw_session 4 twice-311
	raw_send "$RAW_FD" "$(mk_connect 4 twice-311)"
	raw_expect_eof "$RAW_FD" "second CONNECT (3.1.1)"
	raw_session 5 twice-5
	raw_send "$RAW_FD" "$(mk_connect 5 twice-5)"
	raw_expect_reason "$RAW_FD" e0 82 "second CONNECT (5.0): DISCONNECT 0x82 Protocol Error" \
		"second CONNECT"
	raw_expect_eof "$RAW_FD" "second CONNECT (5.0)"
	# PINGREQ after CONNECT gets PINGRESP [MQTT-3.12.4-1].
	raw_session 4 ping
	raw_send "$RAW_FD" "c0 00"
	raw_expect "$RAW_FD" "d0 00" "PINGRESP"
	raw_close "$RAW_FD"
}

run_case "mosquitto_pub/sub MQTT 3.1 (-V mqttv31)" mosquitto_roundtrip mqttv31 3.1
run_case "mosquitto_pub/sub MQTT 3.1.1 (-V mqttv311)" mosquitto_roundtrip mqttv311 3.1.1
run_case "mosquitto_pub/sub MQTT 5 (-V mqttv5)" mosquitto_roundtrip mqttv5 5.0
run_case "raw CONNACK bytes, MQTT 3.1" raw_connack 3 "20 02 00 00"
run_case "raw CONNACK bytes, MQTT 3.1.1" raw_connack 4 "20 02 00 00"
run_case "raw CONNACK bytes, MQTT 5 (Receive Maximum 20, Topic Alias Maximum 10)" \
	raw_connack 5 "$CONNACK_V5_OK"
run_case "unsupported protocol names and levels" unsupported_versions
run_case "client identifier rules per version" client_ids
run_case "malformed CONNECT flags and lengths" malformed_connect
run_case "CONNECT first, and only once" order_of_packets
run_case "broker still serving" mosquitto_roundtrip mqttv311 3.1.1
finish
