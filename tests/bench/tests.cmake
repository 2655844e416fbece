# Benchmark harness (issue 7): the limit reference TC program and its loader, and a smoke run of
# tests/bench/run.sh (a few seconds, label `bench`) so the harness never rots. The full run is
# by hand: `tests/bench/run.sh` (see BENCHMARKS.md).
set(BENCH_ENV "MQTT_FAST_BIN=$<TARGET_FILE:mqtt-fast>;MQTT_FAST_BENCH=$<TARGET_FILE:mqtt-fast-bench>")
if(MQTT_FAST_BPF)
  mqtt_fast_bpf_object(limit ${CMAKE_CURRENT_SOURCE_DIR}/bench/limit.bpf.c)
  add_executable(mqtt-fast-bench-limit ${CMAKE_CURRENT_SOURCE_DIR}/bench/limit_load.c)
  target_compile_definitions(mqtt-fast-bench-limit PRIVATE _GNU_SOURCE)
  target_link_libraries(mqtt-fast-bench-limit PRIVATE bpf_limit_skel)
  list(APPEND BENCH_ENV "MQTT_FAST_BENCH_LIMIT=$<TARGET_FILE:mqtt-fast-bench-limit>")
  # The limit program on fixture packets (bpf_prog_test_run_opts; needs root, else skipped).
  add_executable(test_limit ${CMAKE_CURRENT_SOURCE_DIR}/bench/test_limit.c)
  target_include_directories(test_limit PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
  target_compile_definitions(test_limit PRIVATE _GNU_SOURCE)
  target_link_libraries(test_limit PRIVATE bpf_limit_skel)
  add_test(NAME bench.limit COMMAND test_limit)
  set_tests_properties(bench.limit PROPERTIES LABELS "bench;bpf" TIMEOUT 60 SKIP_RETURN_CODE 77)
endif()
if(TARGET mqtt-fast-ctl)
  list(APPEND BENCH_ENV "MQTT_FAST_CTL=$<TARGET_FILE:mqtt-fast-ctl>")
endif()

# The accounting every figure rests on (histogram, duplicates, merge), no network needed.
add_executable(test_bench ${CMAKE_CURRENT_SOURCE_DIR}/bench/test_bench.c)
target_include_directories(test_bench PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
target_link_libraries(test_bench PRIVATE mqtt_bench_core)
add_test(NAME bench.accounting COMMAND test_bench)
set_tests_properties(bench.accounting PROPERTIES LABELS "bench;unit" TIMEOUT 60)

if(TARGET mqtt-fast AND TARGET mqtt-fast-bench)
  add_test(NAME bench.smoke
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/bench/run.sh --smoke
                   --results ${CMAKE_CURRENT_BINARY_DIR}/bench-smoke)
  # Needs root (namespaces, veth, TC); exit 77 when it cannot run at all.
  set_tests_properties(bench.smoke PROPERTIES LABELS bench TIMEOUT 120 SKIP_RETURN_CODE 77
                       ENVIRONMENT "${BENCH_ENV}")
endif()
