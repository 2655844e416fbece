#!/usr/bin/env bash
# 06-takeover: a second connection with the same client id takes the session over - the first
# connection is closed (5.0: DISCONNECT 0x8E first), the second keeps working, a persistent
# session moves across with its subscriptions, and the first connection's will is published.
. "$(dirname "$0")/lib.sh"

PORT=$(iop_port 6)
start_broker "$PORT"

takeover() { # raw version of the first client, -V value of the second, DISCONNECT reason ("" = none)
	local rv=$1 v=$2 reply=$3 id=t06-$2 old
	raw_session "$rv" "$id"
	old=$RAW_FD
	sub_start "$id" -V "$v" -t "06/$v" -C 1
	# [MQTT-3.1.4-2] (5.0: -3): the existing connection is closed.
	[[ -n $reply ]] && raw_expect_reason "$old" e0 "$reply" "DISCONNECT to the taken-over connection"
	raw_expect_eof "$old" "taken-over connection"
	pub -t "06/$v" -m "to the new owner"
	sub_collect "$SUB_PID" "$SUB_OUT"
	assert_eq "to the new owner" "$SUB_RESULT" "message to the client that took over"
	expect_line "$BROKER_LOG" "\[$id [^]]*\] session taken over by"
}

session_moves() {
	local a b
	raw_session 4 t06-move 00
	a=$RAW_FD
	raw_send "$a" "$(mk_packet 82 "00 01 $(mqtt_str 06/move) 01")"
	raw_expect "$a" "90 03 00 01 01" "SUBACK"
	raw_open
	b=$RAW_FD
	raw_send "$b" "$(mk_connect 4 t06-move 00)"
	raw_expect "$b" "20 02 01 00" "CONNACK of the new connection: Session Present 1"
	raw_expect_eof "$a" "the old connection"
	# The subscription came along: the QoS 1 message arrives on the new connection.
	pub -q 1 -t 06/move -m moved
	raw_expect "$b" "$(mk_packet 32 "$(mqtt_str 06/move) 00 01 $(hex_of moved)")" \
		"PUBLISH on the connection that took the session over"
	raw_send "$b" "40 02 00 01"
	raw_send "$b" "e0 00"
	raw_expect_eof "$b" "after DISCONNECT"
}

takeover_publishes_will() {
	local t=06/will
	sub_start t06-watch -q 1 -t "$t" -C 1 -F '%t|%p'
	local wpid=$SUB_PID wout=$SUB_OUT
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 5 t06-will 0e 60 "" "00 $(mqtt_str "$t") $(mqtt_str old-will)")"
	raw_expect "$RAW_FD" "$CONNACK_V5_OK" "CONNACK"
	local old=$RAW_FD
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 5 t06-will)"
	raw_expect "$RAW_FD" "$CONNACK_V5_OK" "CONNACK of the second connection"
	raw_expect_reason "$old" e0 8e "DISCONNECT 0x8E Session taken over"
	# 5.0 §3.1.4: "If the existing Client has a Will Message, that Will Message is published".
	sub_collect "$wpid" "$wout"
	assert_eq "$t|old-will" "$SUB_RESULT" "will of the taken-over connection"
}

run_case "takeover: 3.1.1 connection closed by a 3.1.1 client" takeover 4 mqttv311 ""
run_case "takeover: 3.1 connection closed by a 3.1 client" takeover 3 mqttv31 ""
run_case "takeover: 5.0 connection gets DISCONNECT 0x8E" takeover 5 mqttv5 8e
run_case "takeover keeps a persistent session (Session Present, subscriptions)" session_moves
run_case "takeover publishes the old connection's will (5.0)" takeover_publishes_will
finish
