# Fast-path program tests (label bpf): fixture tables through bpf_prog_test_run_opts, and the
# programs attached for real on veth pairs in network namespaces. Need root; skip (77) without.
if(MQTT_FAST_BPF AND TARGET bpf_fastpath_skel)
  add_executable(test_fastpath_xdp ${CMAKE_CURRENT_LIST_DIR}/test_fastpath_xdp.c)
  target_include_directories(test_fastpath_xdp PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit
                             ${CMAKE_CURRENT_LIST_DIR})
  target_link_libraries(test_fastpath_xdp PRIVATE bpf_fastpath_skel)
  add_test(NAME bpf.fastpath_xdp COMMAND test_fastpath_xdp)
  set_tests_properties(bpf.fastpath_xdp PROPERTIES LABELS bpf TIMEOUT 60 SKIP_RETURN_CODE 77)
endif()

# fp_xdp + fp_tc attached on veth in namespaces fpk-* (created and removed by the script).
if(MQTT_FAST_BPF AND TARGET bpf_fastpath_skel)
  add_executable(test_fastpath_tc ${CMAKE_CURRENT_LIST_DIR}/test_fastpath_tc.c)
  target_include_directories(test_fastpath_tc PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit
                             ${CMAKE_CURRENT_LIST_DIR})
  target_link_libraries(test_fastpath_tc PRIVATE bpf_fastpath_skel)
  add_test(NAME bpf.fastpath_tc COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_fastpath_tc.sh
                                        $<TARGET_FILE:test_fastpath_tc>)
  set_tests_properties(bpf.fastpath_tc PROPERTIES LABELS bpf TIMEOUT 60 SKIP_RETURN_CODE 77)
endif()
