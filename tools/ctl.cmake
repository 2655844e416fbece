# mqtt-fast-ctl: the broker's control channel client (fastpath add|del|list, stats).
add_executable(mqtt-fast-ctl ${CMAKE_CURRENT_LIST_DIR}/ctl.c)
target_compile_definitions(mqtt-fast-ctl PRIVATE _GNU_SOURCE)
