#!/usr/bin/env bash
# 16-sys-load: mosquitto's $SYS load averages with sys_interval 1 - every
# $SYS/broker/load/<counter>/{1min,5min,15min} is there with a "%.2f" value, and traffic makes
# the message, publish, byte and connection rates rise above zero; heap/current and
# clients/expired are numbers.
. "$(dirname "$0")/lib.sh"

PORT=$(iop_port 16)
start_broker "$PORT" "sys_interval 1"

COUNTERS="messages/received messages/sent publish/received publish/sent publish/dropped
bytes/received bytes/sent connections sockets"

all_topics() {
	SUB_TIMEOUT=15 sub_start s16-all -v -t '$SYS/broker/load/#'
	local out=$SUB_OUT c w
	for c in $COUNTERS; do
		for w in 1min 5min 15min; do
			expect_line "$out" "^\\\$SYS/broker/load/$c/$w [0-9]+\\.[0-9]{2}\$" 5
		done
	done
	assert_eq 0 "$(grep -cvE '^\$SYS/broker/load/[a-z/]+/(1|5|15)min [0-9]+\.[0-9]{2}$' "$out")" \
		"lines under \$SYS/broker/load/# that are not a counter/window and a %.2f value"
	# Retained: a later subscriber gets the 27 values at once.
	sub_start s16-late -v -t '$SYS/broker/load/+/+/+' -t '$SYS/broker/load/+/+' -C 27
	sub_collect "$SUB_PID" "$SUB_OUT"
	assert_eq 27 "$(sort -u -k1,1 <<<"$SUB_RESULT" | wc -l)" "distinct retained load topics"
}

NONZERO='([1-9][0-9]*\.[0-9]{2}|0\.[0-9][1-9]|0\.[1-9][0-9])'

rates_rise() {
	SUB_TIMEOUT=15 sub_start s16-rates -v -t '$SYS/broker/load/#'
	local out=$SUB_OUT t w
	sub_start s16-sink -t 16/load
	seq 1 50 | pub -q 1 -t 16/load -l
	for t in messages/received publish/received publish/sent bytes/received bytes/sent \
		connections; do
		for w in 1min 5min 15min; do
			expect_line "$out" "^\\\$SYS/broker/load/$t/$w $NONZERO\$" 5
		done
	done
}

other_values() {
	sub_start s16-heap -v -t '$SYS/broker/heap/current' -t '$SYS/broker/clients/expired' -C 2
	sub_collect "$SUB_PID" "$SUB_OUT"
	assert_match '\$SYS/broker/heap/current [0-9]+' "$SUB_RESULT" "heap/current"
	assert_match '\$SYS/broker/clients/expired 0' "$SUB_RESULT" "clients/expired"
}

run_case "every \$SYS/broker/load topic, %.2f values, retained" all_topics
run_case "traffic raises the 1, 5 and 15 minute rates" rates_rise
run_case "\$SYS/broker/heap/current and clients/expired" other_values
finish
