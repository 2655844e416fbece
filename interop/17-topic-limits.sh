#!/usr/bin/env bash
# 17-topic-limits: max_topic_levels / max_topic_length. A PUBLISH over a limit is dropped with
# PUBACK/PUBREC 0x90 Topic Name invalid (5.0; 3.1.1 is acknowledged as usual) and one log line
# naming the limit; a SUBSCRIBE over a limit gets SUBACK 0x8F (5.0) / 0x80 (3.1.1); a will
# topic over a limit refuses the CONNECT; MQTT-SN REGISTER and SUBSCRIBE are refused too.
# Topics within the limits, on the same connections, keep working.
. "$(dirname "$0")/lib.sh"

PORT=$(iop_port 17)
SN_PORT=$((PORT + 1))
start_broker "$PORT" "max_topic_levels 3" "max_topic_length 20" \
	"listener $SN_PORT 127.0.0.1" "protocol mqttsn" "sn_allow_anonymous true"

# PUBACK/PUBREC of packet id 1 with reason RC and the Reason String WHY.
ack_with_reason() { # FIRST RC WHY
	local s
	s=$(mqtt_str "$3")
	mk_packet "$1" "00 01 $2 $(hex_varint $(($(hex_count "$s") + 1))) 1f $s"
}

publish_over_limits_v5() {
	sub_start c17-sub -V 5 -t '17/#' -C 1 -v
	raw_session 5 c17-pub
	local fd=$RAW_FD mark
	mark=$(($(log_mark) + 1))
	# QoS 1, four levels: 17/a/b/c.
	raw_send "$fd" "$(mk_packet 32 "$(mqtt_str 17/a/b/c) 00 01 00 $(hex_of deep)")"
	raw_expect "$fd" "$(ack_with_reason 40 90 "topic deeper than max_topic_levels")" \
		"PUBACK 0x90 for a 4-level topic with max_topic_levels 3"
	expect_line "$BROKER_LOG" '\[c17-pub [^]]*\] PUBLISH dropped: topic deeper than max_topic_levels' 5 "$mark"
	# QoS 2, 21 bytes in 3 levels.
	raw_send "$fd" "$(mk_packet 34 "$(mqtt_str 17/abcdefghij/klmnopq) 00 01 00 $(hex_of long)")"
	raw_expect "$fd" "$(ack_with_reason 50 90 "topic longer than max_topic_length")" \
		"PUBREC 0x90 for a 21-byte topic with max_topic_length 20"
	# Within both limits (3 levels, 20 bytes): delivered, and the only thing delivered.
	raw_send "$fd" "$(mk_packet 32 "$(mqtt_str 17/abcdefghij/klmnop) 00 02 00 $(hex_of fits)")"
	raw_expect "$fd" "40 02 00 02" "PUBACK (success) for a topic at both limits"
	sub_collect "$SUB_PID" "$SUB_OUT"
	assert_eq "17/abcdefghij/klmnop fits" "$SUB_RESULT" "what the subscriber received"
	raw_send "$fd" "e0 00"
}

publish_over_limits_v311() {
	raw_session 4 c17-old
	local fd=$RAW_FD
	# 3.1.1 has no reason code: acknowledged as usual, and dropped.
	raw_send "$fd" "$(mk_packet 32 "$(mqtt_str 17/a/b/c) 00 05 $(hex_of deep)")"
	raw_expect "$fd" "40 02 00 05" "3.1.1 PUBACK for a dropped 4-level topic"
	raw_send "$fd" "c0 00" && raw_expect "$fd" "d0 00" "the 3.1.1 connection stays usable"
	raw_send "$fd" "e0 00"
}

subscribe_over_limits() {
	raw_session 5 c17-s5
	local fd=$RAW_FD
	# Three filters: too deep, too long, fine -> 0x8F 0x8F granted QoS 1.
	raw_send "$fd" "$(mk_packet 82 "00 07 00 $(mqtt_str 17/+/+/#) 01 $(mqtt_str 17/abcdefghijklmnopqr) 01 $(mqtt_str 17/+/x) 01")"
	local why
	why=$(mqtt_str "invalid topic filter")
	raw_expect "$fd" "$(mk_packet 90 "00 07 $(hex_varint $(($(hex_count "$why") + 1))) 1f $why 8f 8f 01")" \
		"5.0 SUBACK for deep, long and fitting filters"
	raw_session 4 c17-s4
	raw_send "$RAW_FD" "$(mk_packet 82 "00 08 $(mqtt_str 17/+/+/+) 00 $(mqtt_str 17/y) 00")"
	raw_expect "$RAW_FD" "90 04 00 08 80 00" "3.1.1 SUBACK 0x80 for a 4-level filter"
}

will_over_limits() {
	# CONNECT 5.0 with a will on a 4-level topic: CONNACK 0x90.
	raw_open
	raw_send "$RAW_FD" "$(mk_connect 5 c17-will 04 "" "" "00 $(mqtt_str 17/w/x/y) $(mqtt_str bye)")"
	raw_expect_reason "$RAW_FD" 20 90 "CONNACK 0x90 for a will topic deeper than max_topic_levels" \
		"max_topic_levels"
}

sn_over_limits() {
	# MQTT-SN: REGISTER of a 4-level name -> REGACK rejected (0x03 not supported); a fitting
	# name gets an id. SUBSCRIBE to a 4-level filter -> SUBACK 0x02 invalid topic id.
	local out
	out=$(timeout 10 /usr/bin/python3 - "$SN_PORT" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
gw = ("127.0.0.1", int(sys.argv[1]))
def msg(t, body):
    return bytes([len(body) + 2, t]) + body
def rx():
    return s.recv(512).hex()
s.sendto(msg(0x04, b"\x04\x01\x00\x3c" + b"c17-sn"), gw)       # CONNECT clean, 60 s
print("connack", rx())
s.sendto(msg(0x0A, b"\x00\x00\x00\x01" + b"17/a/b/c"), gw)     # REGISTER 4 levels
print("regack-deep", rx())
s.sendto(msg(0x0A, b"\x00\x00\x00\x02" + b"17/a/b"), gw)       # REGISTER 3 levels
print("regack-ok", rx())
s.sendto(msg(0x12, b"\x00\x00\x03" + b"17/+/+/+"), gw)         # SUBSCRIBE QoS 0, 4 levels
print("suback-deep", rx())
PY
	) || fail "MQTT-SN client failed: $out"
	assert_match "connack 030500" "$out" "MQTT-SN CONNACK"
	assert_match "regack-deep 070b0000000103" "$out" "REGACK 0x03 for a 4-level name"
	assert_match "regack-ok 070b....000200" "$out" "REGACK accepted for a 3-level name"
	assert_match "suback-deep 08130000000003..|suback-deep 0813000000000302" "$out" \
		"SUBACK refusal for a 4-level filter"
}

run_case "PUBLISH over max_topic_levels / max_topic_length: 0x90, logged, not delivered (5.0)" publish_over_limits_v5
run_case "PUBLISH over max_topic_levels: acknowledged and dropped (3.1.1)" publish_over_limits_v311
run_case "SUBSCRIBE over the limits: SUBACK 0x8F (5.0) / 0x80 (3.1.1), other filters granted" subscribe_over_limits
run_case "a will topic over max_topic_levels refuses the CONNECT" will_over_limits
run_case "MQTT-SN REGISTER / SUBSCRIBE over max_topic_levels are refused" sn_over_limits
finish
