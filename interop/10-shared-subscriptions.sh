#!/usr/bin/env bash
# 10-shared-subscriptions: $share/GROUP/FILTER - each message goes to exactly one member of the
# group (round robin here, so an even split), every message is delivered, a plain subscriber on
# the same filter still gets everything, and two groups each get every message (MQTT 5.0 §4.8.2).
. "$(dirname "$0")/lib.sh"

PORT=$(iop_port 10)
start_broker "$PORT"

N=20

# Members subscribe to the group and, plainly, to an end marker: once every member printed the
# marker, everything routed before it has arrived.
shared_group() { # -V value, qos
	local v=$1 q=$2 t=10/$1/q$2 a b all
	sub_start "g10-$v-a" -V "$v" -q "$q" -t "\$share/g/$t" -t "$t/end" -F '%p'
	a=$SUB_OUT
	sub_start "g10-$v-b" -V "$v" -q "$q" -t "\$share/g/$t" -t "$t/end" -F '%p'
	b=$SUB_OUT
	sub_start "p10-$v" -V "$v" -q "$q" -t "$t" -t "$t/end" -F '%p'
	local plain=$SUB_OUT
	seq -f "m%02g" 1 "$N" | pub -V "$v" -q "$q" -t "$t" -l
	pub -V "$v" -q "$q" -t "$t/end" -m END
	expect_line "$a" '^END$'
	expect_line "$b" '^END$'
	expect_line "$plain" '^END$'
	local na nb
	na=$(grep -c '^m' "$a")
	nb=$(grep -c '^m' "$b")
	note "member a: $na, member b: $nb"
	all=$(cat "$a" "$b" | grep '^m' | LC_ALL=C sort)
	assert_lines "$(seq -f "m%02g" 1 "$N")" "$all" \
		"messages over both members: each exactly once"
	((na > 0 && nb > 0)) || fail "one member got everything (a: $na, b: $nb)"
	assert_eq "$((N / 2)) $((N / 2))" "$na $nb" "round-robin split between two members"
	assert_lines "$(seq -f "m%02g" 1 "$N")
END" "$(cat "$plain")" "the plain subscriber gets every message in order"
}

two_groups() {
	local t=10/two x1 x2 y1 y2 z
	sub_start g10-x1 -t "\$share/x/$t" -t "$t/end" -F '%p'
	x1=$SUB_OUT
	sub_start g10-x2 -t "\$share/x/$t" -t "$t/end" -F '%p'
	x2=$SUB_OUT
	sub_start g10-y1 -t "\$share/y/$t" -t "$t/end" -F '%p'
	y1=$SUB_OUT
	sub_start g10-y2 -t "\$share/y/$t" -t "$t/end" -F '%p'
	y2=$SUB_OUT
	# Same share name, other filter: a shared subscription of its own (5.0 §4.8.2 identifies
	# one by Share Name and Topic Filter together).
	sub_start g10-z -t "\$share/y/10/+" -t "$t/end" -F '%p'
	z=$SUB_OUT
	seq 1 10 | pub -q 1 -t "$t" -l
	pub -q 1 -t "$t/end" -m END
	local f
	for f in "$x1" "$x2" "$y1" "$y2" "$z"; do
		expect_line "$f" '^END$'
	done
	assert_lines "$(seq 1 10)" "$(cat "$x1" "$x2" | grep -v END | sort -n)" "group x: every message once"
	assert_lines "$(seq 1 10)" "$(cat "$y1" "$y2" | grep -v END | sort -n)" "group y: every message once"
	assert_lines "$(seq 1 10)" "$(grep -v END "$z")" "\$share/y/10/+ (its only member): every message"
}

leaving_member() {
	local t=10/leave a
	sub_start g10-stay -q 1 -t "\$share/l/$t" -t "$t/end" -F '%p'
	a=$SUB_OUT
	sub_start g10-go -q 1 -t "\$share/l/$t" -F '%p'
	kill9_sub "$SUB_PID"
	expect_line "$BROKER_LOG" '\[g10-go [^]]*\] disconnected'
	# The member that left (clean session) is gone: everything goes to the one left.
	seq 1 6 | pub -q 1 -t "$t" -l
	pub -q 1 -t "$t/end" -m END
	expect_line "$a" '^END$'
	assert_lines "$(seq 1 6)
END" "$(cat "$a")" "all messages to the remaining member"
}

run_case "\$share group, two members, QoS 0 (mqttv311)" shared_group mqttv311 0
run_case "\$share group, two members, QoS 1 (mqttv311)" shared_group mqttv311 1
run_case "\$share group, two members, QoS 2 (mqttv5)" shared_group mqttv5 2
run_case "two groups, and one share name with two filters, each get every message" two_groups
run_case "a member that disconnects leaves the group" leaving_member
finish
