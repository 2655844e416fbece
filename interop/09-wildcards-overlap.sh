#!/usr/bin/env bash
# 09-wildcards-overlap: topic filter matching ('+', '#', parent level, empty levels) checked
# against a table, and overlapping subscriptions of one client giving exactly one copy at the
# highest granted QoS [MQTT-3.3.5-1 (3.1.1)], 5.0 [MQTT-3.3.4-2] with every Subscription
# Identifier [MQTT-3.3.4-3] (raw bytes).
. "$(dirname "$0")/lib.sh"

PORT=$(iop_port 9)
start_broker "$PORT"

# filter|topics it must receive, in publish order (space separated)
MATCH_TABLE=(
	"09/a/b|09/a/b"
	"09/+/b|09/a/b 09/x/b 09//b"
	"09/a/+|09/a/b 09/a/ 09/a/bc"
	"09/#|09 09/a/b 09/x/b 09/a/b/c 09/a/ 09//b 09/ 09/a/bc"
	"09/a/#|09/a/b 09/a/b/c 09/a/ 09/a/bc"
	"09/+|09/"
	"09/+/+|09/a/b 09/x/b 09/a/ 09//b 09/a/bc"
	"+/a/b|09/a/b"
	"09/a/b/#|09/a/b 09/a/b/c"
	"09/+/b/#|09/a/b 09/x/b 09/a/b/c 09//b"
)
TOPICS=(09 09/a/b 09/x/b 09/a/b/c 09/a/ 09//b 09/ 09/a/bc)

match_table() {
	local row filter want i pids=() outs=() filters=() wants=()
	for ((i = 0; i < ${#MATCH_TABLE[@]}; i++)); do
		IFS='|' read -r filter want <<<"${MATCH_TABLE[$i]}"
		# Each subscriber also listens to 09end, the end marker all of them receive.
		sub_start "m09-$i" -t "$filter" -t 09end -F '%t' -q 1
		pids+=("$SUB_PID") outs+=("$SUB_OUT") filters+=("$filter") wants+=("$want")
	done
	for t in "${TOPICS[@]}"; do
		pub -q 1 -t "$t" -m x
	done
	pub -q 1 -t 09end -m end
	for ((i = 0; i < ${#pids[@]}; i++)); do
		expect_line "${outs[$i]}" '^09end$'
		assert_eq "${wants[$i]} 09end" "$(echo $(cat "${outs[$i]}"))" \
			"topics received through filter ${filters[$i]}"
	done
}

overlap_mosquitto() { # -V value
	local v=$1
	sub_start "o09-$v" -V "$v" -q 1 -t '09/o/#' -t '09/o/+/c' -t '09/+/b/c' -t '09/o/b/c' \
		-F '%q|%t|%p' -C 3
	pub -V "$v" -q 1 -t 09/o/b/c -m all-four
	pub -V "$v" -q 2 -t 09/o/x/c -m two-of-them
	pub -V "$v" -q 1 -t 09/o/end -m end
	sub_collect "$SUB_PID" "$SUB_OUT"
	assert_lines "1|09/o/b/c|all-four
1|09/o/x/c|two-of-them
1|09/o/end|end" "$SUB_RESULT" "one copy per message through four overlapping filters ($v)"
}

# Raw: three overlapping filters at QoS 0, 1, 2 in one SUBSCRIBE.
overlap_raw() { # version
	local v=$1 props="" suback fd
	[[ $v == 5 ]] && props="00 "
	raw_session "$v" "r09-v$v"
	fd=$RAW_FD
	raw_send "$fd" "$(mk_packet 82 "00 07 $props$(mqtt_str 09/r/+) 00 $(mqtt_str '09/r/#') 01 \
		$(mqtt_str 09/r/x) 02")"
	suback="00 07 ${props}00 01 02"
	raw_expect "$fd" "$(mk_packet 90 "$suback")" "SUBACK granting 0, 1, 2"
	# QoS 2 publish: delivered once at QoS 2 (the highest granted) [MQTT-3.3.5-1].
	pub -q 2 -t 09/r/x -m hi
	raw_expect "$fd" "$(mk_packet 34 "$(mqtt_str 09/r/x) 00 01 ${props}$(hex_of hi)")" \
		"one PUBLISH at QoS 2"
	raw_send "$fd" "50 02 00 01"                  # PUBREC
	raw_expect "$fd" "62 02 00 01" "PUBREL"       # [MQTT-4.3.3-?]
	raw_send "$fd" "70 02 00 01"                  # PUBCOMP
	# QoS 1 publish to a topic only '+' (QoS 0) and '#' (QoS 1) match: QoS 1.
	pub -q 1 -t 09/r/y -m yo
	raw_expect "$fd" "$(mk_packet 32 "$(mqtt_str 09/r/y) 00 02 ${props}$(hex_of yo)")" \
		"one PUBLISH at QoS 1, not a duplicate of the QoS 2 one"
	raw_send "$fd" "40 02 00 02"
	pub -q 0 -t 09/r/end -m e
	raw_expect "$fd" "$(mk_packet 30 "$(mqtt_str 09/r/end) ${props}$(hex_of e)")" \
		"the end marker, with no extra copies before it"
	raw_close "$fd"
}

overlap_sub_ids_v5() {
	local fd
	raw_session 5 r09-ids
	fd=$RAW_FD
	# Two SUBSCRIBEs with Subscription Identifiers 1 and 2 (property 0x0B).
	raw_send "$fd" "$(mk_packet 82 "00 01 02 0b 01 $(mqtt_str '09/i/#') 01")"
	raw_expect "$fd" "90 04 00 01 00 01" "SUBACK 1"
	raw_send "$fd" "$(mk_packet 82 "00 02 02 0b 02 $(mqtt_str 09/i/+) 00")"
	raw_expect "$fd" "90 04 00 02 00 00" "SUBACK 2"
	pub -q 1 -t 09/i/a -m both
	raw_read_packet "$fd" || fail "no PUBLISH ($RAW_PKT $RAW_STATUS)"
	# One PUBLISH at QoS 1 carrying both identifiers, in either order.
	local p1 p2
	p1=$(mk_packet 32 "$(mqtt_str 09/i/a) 00 01 04 0b 01 0b 02 $(hex_of both)")
	p2=$(mk_packet 32 "$(mqtt_str 09/i/a) 00 01 04 0b 02 0b 01 $(hex_of both)")
	[[ $RAW_PKT == "$p1" || $RAW_PKT == "$p2" ]] ||
		fail "PUBLISH with Subscription Identifiers 1 and 2: expected $p1, observed $RAW_PKT"
	raw_send "$fd" "40 02 00 01"
	pub -q 0 -t 09/i/end -m e
	raw_expect "$fd" "$(mk_packet 30 "$(mqtt_str 09/i/end) 04 0b 01 0b 02 $(hex_of e)")" \
		"the end marker right after the single copy"
	raw_close "$fd"
}

run_case "topic filter matching table" match_table
run_case "overlapping filters, mosquitto_sub (mqttv311)" overlap_mosquitto mqttv311
run_case "overlapping filters, mosquitto_sub (mqttv5)" overlap_mosquitto mqttv5
run_case "overlapping filters at QoS 0/1/2, raw 3.1.1" overlap_raw 4
run_case "overlapping filters at QoS 0/1/2, raw 5.0" overlap_raw 5
run_case "overlapping filters with Subscription Identifiers, raw 5.0" overlap_sub_ids_v5
finish
