#!/usr/bin/env bash
# 02-subpub-qos: publish/subscribe at QoS 0, 1 and 2 for MQTT 3.1, 3.1.1 and 5 with mosquitto
# clients: every message arrives exactly once, in order, with its exact payload and the QoS
# min(published, granted); the QoS flows seen in mosquitto's debug output (-d) are complete;
# a large binary payload arrives byte for byte.
. "$(dirname "$0")/lib.sh"

PORT=$(iop_port 2)
start_broker "$PORT"

# Messages printed by subscribers as MSG|qos|retain|topic|payload, among -d debug lines.
FMT='MSG|%q|%r|%t|%p'
msgs() { grep '^MSG|' "$1"; }

# Publishes 4 messages (the last one a marker) in one connection at QoS q with version v and
# checks the subscriber (same version and QoS) got exactly those, once each, in order.
qos_flow() { # -V value, qos
	local v=$1 q=$2 topic=02/$1/q$2 id=s02-$1-$2
	sub_start "$id" -d -V "$v" -q "$q" -t "$topic" -F "$FMT" -C 4
	pub -d -V "$v" -i "p02-$v-$q" -q "$q" -t "$topic" -l <<<$'one\ntwo words\nünïcødé ✓\nEND'
	sub_collect "$SUB_PID" "$SUB_OUT"
	assert_lines "MSG|$q|0|$topic|one
MSG|$q|0|$topic|two words
MSG|$q|0|$topic|ünïcødé ✓
MSG|$q|0|$topic|END" "$(msgs "$SUB_OUT")" "messages at the $v subscriber (QoS $q)"

	# The flows, as mosquitto's debug output shows them.
	local sent pub_flow sub_flow
	sent=$(grep -c "sending PUBLISH (d0, q$q" <<<"$PUB_OUTPUT")
	assert_eq 4 "$sent" "PUBLISH packets sent at QoS $q by mosquitto_pub"
	assert_eq 4 "$(grep -c "received PUBLISH (d0, q$q, r0" "$SUB_OUT")" \
		"PUBLISH packets (QoS $q, no DUP, no RETAIN) received by mosquitto_sub"
	case $q in
	0)
		pub_flow=$(grep -cE 'received PUB(ACK|REC|COMP)' <<<"$PUB_OUTPUT")
		sub_flow=$(grep -cE 'sending PUB(ACK|REC|COMP)' "$SUB_OUT")
		assert_eq "0 0" "$pub_flow $sub_flow" "no acknowledgements at QoS 0"
		;;
	1)
		assert_eq 4 "$(grep -c 'received PUBACK' <<<"$PUB_OUTPUT")" "PUBACKs to the publisher"
		assert_eq 4 "$(grep -c 'sending PUBACK' "$SUB_OUT")" "PUBACKs from the subscriber"
		;;
	2)
		assert_eq "4 4 4" "$(grep -c 'received PUBREC' <<<"$PUB_OUTPUT") $(grep -c \
			'sending PUBREL' <<<"$PUB_OUTPUT") $(grep -c 'received PUBCOMP' <<<"$PUB_OUTPUT")" \
			"PUBREC/PUBREL/PUBCOMP at the publisher"
		assert_eq "4 4 4" "$(grep -c 'sending PUBREC' "$SUB_OUT") $(grep -c \
			'received PUBREL' "$SUB_OUT") $(grep -c 'sending PUBCOMP' "$SUB_OUT")" \
			"PUBREC/PUBREL/PUBCOMP at the subscriber"
		;;
	esac
}

# Delivery QoS is min(publish QoS, granted QoS) [MQTT-3.8.4-8 (5.0: -8)].
qos_downgrade() { # -V value
	local v=$1 sq pq out=""
	for sq in 0 1 2; do
		sub_start "d02-$v-$sq" -V "$v" -q "$sq" -t "02/down/$v/#" -F '%q %t' -C 3
		eval "pid_$sq=\$SUB_PID out_$sq=\$SUB_OUT"
	done
	for pq in 0 1 2; do
		pub -V "$v" -q "$pq" -t "02/down/$v/p$pq" -m x
	done
	for sq in 0 1 2; do
		eval "sub_collect \$pid_$sq \$out_$sq"
		out+="sub q$sq: $(echo $SUB_RESULT)"$'\n'
	done
	assert_lines "sub q0: 0 02/down/$v/p0 0 02/down/$v/p1 0 02/down/$v/p2
sub q1: 0 02/down/$v/p0 1 02/down/$v/p1 1 02/down/$v/p2
sub q2: 0 02/down/$v/p0 1 02/down/$v/p1 2 02/down/$v/p2
" "$out" "delivered QoS per (subscription QoS, publish QoS)"
}

# A 300 kB binary payload at QoS 1, and an empty one.
payloads() {
	local big=$IOP_TMP/big.bin got=$IOP_TMP/big.out
	head -c 300000 /dev/urandom >"$big"
	SUB_TIMEOUT=20 sub_start s02-big -q 1 -t 02/big -F '%p' -N -C 1
	local pid=$SUB_PID out=$SUB_OUT
	pub -q 1 -t 02/big -f "$big"
	wait_pid "$pid" "$IOP_WAIT" || fail "no 300 kB message within $IOP_WAIT s"
	cmp "$big" "$out" >&2 || fail "the 300 kB payload differs ($(stat -c %s "$out") bytes received)"

	sub_start s02-empty -q 1 -t 02/empty -F '[%l|%p]' -C 2
	pid=$SUB_PID out=$SUB_OUT
	pub -q 1 -t 02/empty -n
	pub -q 1 -t 02/empty -m after
	sub_collect "$pid" "$out"
	assert_lines $'[0|]\n[5|after]' "$SUB_RESULT" "an empty payload, then a 5-byte one"
}

# Many messages through the in-flight window (max_inflight_messages 20) stay in order.
many_in_order() { # qos
	local q=$1 n=300 i
	sub_start "s02-many-$q" -q "$q" -t "02/many/$q" -C "$n"
	local pid=$SUB_PID out=$SUB_OUT
	seq 1 "$n" | pub -q "$q" -t "02/many/$q" -l
	sub_collect "$pid" "$out" 15
	assert_lines "$(seq 1 "$n")" "$SUB_RESULT" "$n QoS $q messages, once each and in order"
}

for v in mqttv31 mqttv311 mqttv5; do
	for q in 0 1 2; do
		run_case "$v QoS $q: exactly once, exact payloads, complete flow" qos_flow "$v" "$q"
	done
done
run_case "QoS downgrade to the granted QoS, MQTT 3.1.1" qos_downgrade mqttv311
run_case "QoS downgrade to the granted QoS, MQTT 5" qos_downgrade mqttv5
run_case "large binary and empty payloads" payloads
run_case "300 messages at QoS 1 in order" many_in_order 1
run_case "300 messages at QoS 2 in order" many_in_order 2
finish
