# The kernel fast path end to end (label fastpath): the broker, the programs and real clients in
# network namespaces joined by veth (tests/fastpath/e2e.sh), in three modes that must deliver
# the same messages: kernel, fallback (no fastpath_interface), bogus (a missing interface),
# noperm (the broker runs as nobody: no BPF).
# Namespaces fpu-*, veths fpu*, ports 25510-25551. Need root; skip (77) without.
if(TARGET mqtt-fast AND TARGET mqtt-fast-ctl)
  foreach(mode kernel fallback bogus noperm)
    add_test(NAME fastpath.e2e_${mode} COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/e2e.sh ${mode})
    set_tests_properties(fastpath.e2e_${mode} PROPERTIES LABELS fastpath TIMEOUT 120
                         SKIP_RETURN_CODE 77
                         ENVIRONMENT "MQTT_FAST_BIN=$<TARGET_FILE:mqtt-fast>;MQTT_FAST_PUB=$<TARGET_FILE:mqtt-fast-pub>;MQTT_FAST_SUB=$<TARGET_FILE:mqtt-fast-sub>;MQTT_FAST_CTL=$<TARGET_FILE:mqtt-fast-ctl>")
  endforeach()
endif()
