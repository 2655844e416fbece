#!/usr/bin/env bash
# 41-acl: acl_file in mosquitto's format against mosquitto_pub/mosquitto_sub and raw bytes:
# an allow/deny table for PUBLISH (MQTT 5 PUBACK 0x87 seen with mosquitto_pub -d) covering
# anonymous lines, user sections, deny lines and %c / %u patterns; 3.1.1 publishes that are
# acknowledged as usual and dropped; SUBACK 0x87 / 0x80 for an exact topic without read access
# while wildcard filters are granted and filtered per message; retained messages not delivered
# without read access; wills not published without write access; raw PUBACK/PUBREC 0x87 bytes;
# SIGHUP re-reading the file; an MQTT-SN publisher (mqtt-fast-pub --sn, client id as user name)
# to a denied topic not delivered, and sn_allow_anonymous false admitting only client ids with
# a `user` section.
. "$(dirname "$0")/lib.sh"

command -v mosquitto_passwd >/dev/null || fail "mosquitto_passwd not found (mosquitto package)"
MQTT_FAST_PUB=${MQTT_FAST_PUB:-$IOP_SRC/build/tools/mqtt-fast-pub}
[[ -x $MQTT_FAST_PUB ]] || fail "'$MQTT_FAST_PUB' not found (set MQTT_FAST_PUB)"

PORT=$(iop_port 41)
SN_PORT=23410 # MQTT-SN scenarios use 23000 and up (UDP)
PWFILE=$IOP_TMP/passwd
ACLFILE=$IOP_TMP/acl
PW_alice=alice-pw
PW_bob=bob-pw
mosquitto_passwd -b -c "$PWFILE" alice "$PW_alice" >/dev/null || fail "mosquitto_passwd failed"
mosquitto_passwd -b "$PWFILE" bob "$PW_bob" >/dev/null || fail "mosquitto_passwd failed"

write_acl() { # FILE [EXTRA LINES FOR bob]
	local f=$1
	shift
	cat >"$f" <<'EOF'
# anonymous clients
topic read pub41/#

user alice
topic readwrite a41/#
topic deny a41/secret
topic write pub41/news
topic read snup41/#

user sn41-dev
topic write snup41/ok

pattern readwrite c41/%c/#
pattern write u41/%u

user bob
topic read a41/#
EOF
	printf '%s\n' "$@" >>"$f"
}
write_acl "$ACLFILE"

start_broker "$PORT" "password_file $PWFILE" "acl_file $ACLFILE"

# mosquitto_pub/sub arguments for a user ("-" = anonymous).
login() { # USER
	[[ $1 == - ]] && return 0
	local v=PW_$1
	printf '%s\n' -u "$1" -P "${!v}"
}

# Publishes one QoS 1 message (MQTT 5 unless V is set) and prints the PUBACK reason code.
puback_rc() { # USER ID TOPIC
	local out
	mapfile -t creds < <(login "$1")
	out=$(timeout -k 1 10 mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -V "${V:-mqttv5}" \
		"${creds[@]}" -i "$2" -t "$3" -m x -q 1 -d 2>&1)
	if [[ $out =~ received\ PUBACK\ \(Mid:\ [0-9]+,\ RC:([0-9]+)\) ]]; then
		echo "${BASH_REMATCH[1]}"
	else
		echo "no PUBACK: $(echo "$out" | tr '\n' ' ')"
	fi
}

publish_table() {
	local user id topic want got n=0
	# USER CLIENT_ID TOPIC EXPECTED (ok = 0 or 16 "no matching subscribers", else 135)
	while read -r user id topic want; do
		[[ -z $user || $user == \#* ]] && continue
		got=$(puback_rc "$user" "$id" "$topic")
		case $want:$got in
		ok:0 | ok:16 | 135:135) ;;
		*) fail "user $user, client $id, PUBLISH to $topic: PUBACK reason $got, expected $want" ;;
		esac
		n=$((n + 1))
	done <<'EOF'
alice c41-a a41/x              ok
alice c41-a a41/secret         135
alice c41-a a41/secret/deeper  ok
alice c41-a pub41/news         ok
alice c41-a pub41/other        135
bob   c41-b a41/x              135
-     c41-n pub41/news         135
-     c41-n a41/x              135
# patterns: %c for everyone, %u for clients with a user name
alice c41-a c41/c41-a/x        ok
alice c41-a c41/c41-b/x        135
-     c41-n c41/c41-n/y        ok
bob   c41-b u41/bob            ok
bob   c41-b u41/alice          135
-     c41-n u41/c41-n          135
alice c41-a $SYS/x             135
EOF
	note "$n PUBLISH decisions as expected"
	expect_line "$BROKER_LOG" '\[c41-a -\] denied PUBLISH to a41/secret \(acl_file\)'
}

v311_dropped() {
	sub_start c41-bob $(login bob) -v -t 'a41/#' -C 1
	# 3.1.1 has no reason code for it: acknowledged (QoS 1 and 2) and dropped (mosquitto).
	assert_eq 0 "$(V=mqttv311 puback_rc alice c41-a a41/secret)" "3.1.1 PUBACK for a denied topic"
	pub $(login alice) -V mqttv311 -q 2 -t a41/secret -m dropped2
	pub $(login alice) -q 1 -t a41/marker -m marker
	sub_collect "$SUB_PID" "$SUB_OUT"
	assert_eq "a41/marker marker" "$SUB_RESULT" "first message bob received"
}

read_at_delivery() {
	# '#' is granted to an anonymous client; each message is checked against its read access.
	sub_start c41-anon -v -t '#' -C 1
	local anon_pid=$SUB_PID anon_out=$SUB_OUT
	sub_start c41-bob2 $(login bob) -v -t 'a41/+' -C 1
	pub $(login alice) -q 1 -t a41/x -m for-bob
	pub $(login alice) -q 1 -t pub41/news -m for-everyone
	sub_collect "$SUB_PID" "$SUB_OUT"
	assert_eq "a41/x for-bob" "$SUB_RESULT" "bob's messages"
	sub_collect "$anon_pid" "$anon_out"
	assert_eq "pub41/news for-everyone" "$SUB_RESULT" "the anonymous client's messages"
}

suback_codes() {
	local out
	out=$(timeout -k 1 10 mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -V mqttv5 $(login bob) \
		-i c41-s5 -t a41/x -t pub41/x -t 'pub41/#' -t '$share/g/pub41/y' -E -d 2>&1)
	assert_match 'Subscribed \(mid: 1\): 0, 135, 0, 135' "$out" "MQTT 5 SUBACK codes"
	out=$(timeout -k 1 10 mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -V mqttv311 $(login bob) \
		-i c41-s3 -t a41/x -t pub41/x -t 'pub41/#' -E -d 2>&1)
	assert_match 'Subscribed \(mid: 1\): 0, 128, 0' "$out" "MQTT 3.1.1 SUBACK codes"
	expect_line "$BROKER_LOG" '\[c41-s5 -\] denied SUBSCRIBE to pub41/x \(acl_file\)'
}

retained() {
	pub $(login alice) -q 1 -r -t a41/r -m kept
	# bob may read it: the retained message follows his SUBACK.
	sub_start c41-bob3 $(login bob) -v -t a41/r -C 1
	sub_collect "$SUB_PID" "$SUB_OUT"
	assert_eq "a41/r kept" "$SUB_RESULT" "retained message to bob"
	# An anonymous client's wildcard matches it, but it may not read it: nothing, then the
	# marker it may read.
	sub_start c41-anon2 -v -t 'a41/+' -t 'pub41/#' -C 1
	pub $(login alice) -q 1 -t pub41/news -m marker
	sub_collect "$SUB_PID" "$SUB_OUT"
	assert_eq "pub41/news marker" "$SUB_RESULT" "first message of the anonymous subscriber"
	pub $(login alice) -q 1 -r -n -t a41/r
}

wills() {
	sub_start c41-watch $(login bob) -v -t 'a41/#' -C 2
	local w=$SUB_PID wout=$SUB_OUT
	# alice may not write a41/secret: that will is never published.
	sub_start c41-v1 $(login alice) -t a41/idle --will-topic a41/secret --will-payload w-denied
	kill9_sub "$SUB_PID"
	sub_start c41-v2 $(login alice) -t a41/idle --will-topic a41/will --will-payload w-ok
	kill9_sub "$SUB_PID"
	pub $(login alice) -q 1 -t a41/zz -m marker
	sub_collect "$w" "$wout"
	assert_lines "a41/will w-ok
a41/zz marker" "$SUB_RESULT" "wills seen by bob"
	expect_line "$BROKER_LOG" '\[c41-v1 -\] denied PUBLISH to a41/secret \(acl_file\)'
}

raw_acks() {
	local login_hex
	login_hex="$(mqtt_str alice) $(mqtt_str "$PW_alice")"
	# Request Problem Information 0 (17 00): the ack carries the bare reason code.
	raw_session 5 c41-raw c2 60 "17 00" "$login_hex"
	raw_send "$RAW_FD" "$(mk_packet 32 "$(mqtt_str a41/secret) 00 01 00 78")"
	raw_expect "$RAW_FD" "40 03 00 01 87" "MQTT 5 PUBACK 0x87 Not Authorized"
	raw_send "$RAW_FD" "$(mk_packet 34 "$(mqtt_str a41/secret) 00 02 00 78")"
	raw_expect "$RAW_FD" "50 03 00 02 87" "MQTT 5 PUBREC 0x87 Not Authorized"
	raw_send "$RAW_FD" "$(mk_packet 82 "00 03 00 $(mqtt_str pub41/x) 00")"
	raw_expect "$RAW_FD" "90 04 00 03 00 87" "MQTT 5 SUBACK 0x87 for a topic without read access"
	raw_close "$RAW_FD"
	# With Request Problem Information (the default) the ack explains itself.
	raw_session 5 c41-raw2 c2 60 "" "$login_hex"
	raw_send "$RAW_FD" "$(mk_packet 32 "$(mqtt_str a41/secret) 00 05 00 78")"
	local text="not authorized to publish to this topic" th
	th=$(mqtt_str "$text")
	raw_expect "$RAW_FD" "$(mk_packet 40 "00 05 87 $(hex_varint $(($(hex_count "$th") + 1))) 1f $th")" \
		"MQTT 5 PUBACK 0x87 with its Reason String"
	raw_close "$RAW_FD"
	# 3.1.1: a plain PUBACK.
	raw_session 4 c41-raw3 c2 60 "" "$login_hex"
	raw_send "$RAW_FD" "$(mk_packet 32 "$(mqtt_str a41/secret) 00 07 78")"
	raw_expect "$RAW_FD" "40 02 00 07" "3.1.1 PUBACK for a denied topic"
}

reload() {
	local acl=$IOP_TMP/acl-reload mark
	write_acl "$acl"
	start_broker $((PORT + 2)) "password_file $PWFILE" "acl_file $acl"
	assert_eq 135 "$(puback_rc bob c41-b a41/x)" "bob writing a41/x before the reload"
	write_acl "$acl" "topic write a41/x"
	mark=$(($(log_mark) + 1))
	kill -HUP "$BROKER_PID"
	expect_line "$BROKER_LOG" "reload: acl_file $(re_quote "$acl") \(3 users, 2 patterns\)" 5 "$mark"
	assert_match '^(0|16)$' "$(puback_rc bob c41-b a41/x)" "bob writing a41/x after the reload"
	# A broken file keeps the old rules and logs file:line.
	write_acl "$acl" "topic readwrite pub41/#" "topic maybe a41/y"
	mark=$(($(log_mark) + 1))
	kill -HUP "$BROKER_PID"
	expect_line "$BROKER_LOG" "error reload: acl_file $(re_quote "$acl"):19: access must be read, write, readwrite or deny; keeping the old acl_file" 5 "$mark"
	assert_match '^(0|16)$' "$(puback_rc bob c41-b a41/x)" "bob writing a41/x after a failed reload"
	assert_eq 135 "$(puback_rc bob c41-b pub41/x)" "nothing of the broken file applied"
}

sn_publish() {
	start_broker $((PORT + 3)) "password_file $PWFILE" "acl_file $ACLFILE" \
		"listener $SN_PORT 127.0.0.1" "protocol mqttsn" "sn_allow_anonymous false"
	sub_start c41-snsub $(login alice) -v -t 'snup41/#' -C 1
	local out
	# The client id is the MQTT-SN client's user name: sn41-dev may write snup41/ok only.
	out=$(timeout -k 1 10 "$MQTT_FAST_PUB" --sn -h 127.0.0.1 -p "$SN_PORT" -i sn41-dev \
		-t snup41/denied -m nope -q 1 2>&1)
	assert_match 'PUBLISH rejected: not supported' "$out" "mqtt-fast-pub --sn to a denied topic"
	timeout -k 1 10 "$MQTT_FAST_PUB" --sn -h 127.0.0.1 -p "$SN_PORT" -i sn41-dev \
		-t snup41/denied -m nope0 -q 0 || fail "mqtt-fast-pub --sn -q 0 failed"
	timeout -k 1 10 "$MQTT_FAST_PUB" --sn -h 127.0.0.1 -p "$SN_PORT" -i sn41-dev \
		-t snup41/ok -m yes -q 1 || fail "mqtt-fast-pub --sn to an allowed topic failed"
	sub_collect "$SUB_PID" "$SUB_OUT"
	assert_eq "snup41/ok yes" "$SUB_RESULT" "what the subscriber received from MQTT-SN"
	expect_line "$BROKER_LOG" '\[sn41-dev -\] denied PUBLISH to snup41/denied \(acl_file\)'
	# sn_allow_anonymous false: a client id without a `user` section is refused.
	out=$(timeout -k 1 10 "$MQTT_FAST_PUB" --sn -h 127.0.0.1 -p "$SN_PORT" -i sn41-other \
		-t snup41/ok -m no -q 1 2>&1) && fail "sn41-other was let in: $out"
	assert_match 'Connection Refused' "$out" "mqtt-fast-pub --sn without a user section"
}

run_case "PUBLISH allow/deny table: users, anonymous, deny, %c / %u patterns (MQTT 5 0x87)" publish_table
run_case "3.1.1: a denied PUBLISH is acknowledged and dropped" v311_dropped
run_case "wildcard subscriptions: read access checked per message" read_at_delivery
run_case "SUBACK 0x87 / 0x80 for exact topics without read access" suback_codes
run_case "retained messages only to clients with read access" retained
run_case "a will to a topic the client may not write is not published" wills
run_case "raw PUBACK / PUBREC / SUBACK 0x87 bytes" raw_acks
run_case "SIGHUP re-reads acl_file; a broken one keeps the old" reload
run_case "MQTT-SN: client id as user name, denied topic not delivered, sn_allow_anonymous" sn_publish
finish
