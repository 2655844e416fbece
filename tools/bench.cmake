# mqtt-fast-bench: the load generator and receiver of the benchmarks (tests/bench/), on the
# mqtt codec library only (no broker code), so it runs against any broker. Its accounting
# (clock, histogram, result files) is a library of its own so that tests/bench/test_bench.c
# checks exactly what the tool runs.
add_library(mqtt_bench_core STATIC bench/common.c bench/report.c)
target_include_directories(mqtt_bench_core PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/bench)
# POSIX/GNU interfaces (epoll, recvmmsg/sendmmsg, getaddrinfo, getopt_long) on strict C11.
target_compile_definitions(mqtt_bench_core PUBLIC _GNU_SOURCE)
target_link_libraries(mqtt_bench_core PUBLIC mqtt)

find_package(OpenSSL 3 REQUIRED)
add_executable(mqtt-fast-bench bench/main.c bench/tcp.c bench/sn.c bench/relay.c bench/tls.c)
target_link_libraries(mqtt-fast-bench PRIVATE mqtt_bench_core OpenSSL::SSL)
