# mqtt-fast-bench: the load generator and receiver of the benchmarks (tests/bench/), on the
# mqtt codec library only (no broker code), so it runs against any broker.
add_executable(mqtt-fast-bench bench/main.c bench/common.c bench/report.c bench/tcp.c bench/sn.c
                               bench/relay.c)
target_include_directories(mqtt-fast-bench PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/bench)
# POSIX/GNU interfaces (epoll, recvmmsg/sendmmsg, getaddrinfo, getopt_long) on strict C11.
target_compile_definitions(mqtt-fast-bench PRIVATE _GNU_SOURCE)
target_link_libraries(mqtt-fast-bench PRIVATE mqtt)
