#!/usr/bin/env bash
# 08-sys: the $SYS tree with sys_interval 1 - version, uptime (advancing), clients/connected;
# retained for late subscribers; and filters starting with a wildcard ('#', '+/...') never
# match topics starting with '$' [MQTT-4.7.2-1], neither live nor retained.
. "$(dirname "$0")/lib.sh"

PORT=$(iop_port 8)
start_broker "$PORT" "sys_interval 1"

sys_topics() {
	SUB_TIMEOUT=15 sub_start s08-sys -v -t '$SYS/#'
	local out=$SUB_OUT
	expect_line "$out" '^\$SYS/broker/version mqtt-fast version [0-9]'
	expect_line "$out" '^\$SYS/broker/uptime [0-9]+ seconds$'
	# The first (retained) value may predate this subscriber; the next update counts it.
	expect_line "$out" '^\$SYS/broker/clients/connected [1-9][0-9]*$'
	# Updated every second: a later uptime value shows up.
	local first
	first=$(grep -m1 '^\$SYS/broker/uptime ' "$out" | cut -d' ' -f2)
	expect_line "$out" "^\\\$SYS/broker/uptime ($((first + 1))|$((first + 2))|$((first + 3))) seconds$" 5
}

sys_single_level() {
	sub_start s08-plus -v -t '$SYS/broker/+' -C 1 -T '$SYS/broker/uptime'
	sub_collect "$SUB_PID" "$SUB_OUT"
	assert_match '^\$SYS/broker/(version|clients|messages|bytes|publish|subscriptions)' \
		"$SUB_RESULT" "a \$SYS/broker/+ subscriber gets a \$SYS topic"
}

connected_counts() {
	# Three more clients: clients/connected grows by 3 at the next update.
	local base n i
	SUB_TIMEOUT=15 sub_start s08-count -v -t '$SYS/broker/clients/connected'
	local out=$SUB_OUT
	# The second value is an update made while this subscriber was connected.
	expect_line "$out" '^\$SYS/broker/clients/connected [0-9]+$' 5 1 2
	base=$(sed -n 2p "$out" | cut -d' ' -f2)
	for i in 1 2 3; do
		sub_start "s08-extra$i" -t 08/idle
	done
	n=$((base + 3))
	expect_line "$out" "^\\\$SYS/broker/clients/connected $n\$" 5
}

no_sys_for_wildcards() {
	# Subscribed while $SYS holds retained messages and while they are republished.
	SUB_TIMEOUT=15 sub_start s08-watch -v -t '$SYS/broker/uptime'
	local watch=$SUB_OUT
	expect_line "$watch" '^\$SYS/broker/uptime ' 5
	sub_start s08-hash -v -t '#' -C 1
	local hash_pid=$SUB_PID hash_out=$SUB_OUT
	sub_start s08-plus2 -v -t '+/broker/#' -t '+/+/uptime' -C 1
	local plus_pid=$SUB_PID plus_out=$SUB_OUT
	# Let at least one $SYS update pass while they are subscribed.
	local n
	n=$(wc -l <"$watch")
	expect_line "$watch" '^\$SYS/broker/uptime ' 5 $((n + 1))
	pub -t 08/marker -m marker
	pub -t x/broker/y -m marker2
	sub_collect "$hash_pid" "$hash_out"
	assert_eq "08/marker marker" "$SUB_RESULT" "first message to a '#' subscriber"
	sub_collect "$plus_pid" "$plus_out"
	assert_eq "x/broker/y marker2" "$SUB_RESULT" "first message to '+/broker/#' and '+/+/uptime'"
}

run_case "\$SYS/# shows version, uptime, clients/connected, updated every second" sys_topics
run_case "\$SYS/broker/+ (retained \$SYS to a new subscriber)" sys_single_level
run_case "clients/connected follows connections" connected_counts
run_case "'#' and '+/...' do not match \$SYS topics [MQTT-4.7.2-1]" no_sys_for_wildcards
finish
