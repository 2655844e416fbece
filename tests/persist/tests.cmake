# Persistence (label `persist`): restarts with real clients and the kill -9 crash test, against
# the real daemon with its LMDB store in a temporary directory. Ports 24000-24099.
# The unit tests of the store (tests/unit/test_broker_store*.c) are registered with the others.
if(TARGET mqtt-fast)
  # Debian's python3 with python3-paho-mqtt (scripts/deps.sh), not whatever python3 is first in
  # PATH on a developer machine.
  find_program(PERSIST_PYTHON3 python3 PATHS /usr/bin NO_DEFAULT_PATH)
  if(NOT PERSIST_PYTHON3)
    find_program(PERSIST_PYTHON3 python3)
  endif()
  set(persist_env "MQTT_FAST_BIN=$<TARGET_FILE:mqtt-fast>;MQTT_FAST_PUB=$<TARGET_FILE:mqtt-fast-pub>;MQTT_FAST_SUB=$<TARGET_FILE:mqtt-fast-sub>")

  add_test(NAME persist.restart COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/persist/restart.sh)
  set_tests_properties(persist.restart PROPERTIES LABELS persist TIMEOUT 120
                       ENVIRONMENT "${persist_env}")

  # Inbound QoS 2 state (PUBREC'd ids awaiting PUBREL) across kill -9, with raw bytes.
  add_test(NAME persist.qos2_inbound COMMAND ${PERSIST_PYTHON3}
                                             ${CMAKE_CURRENT_SOURCE_DIR}/persist/qos2_inbound.py)
  set_tests_properties(persist.qos2_inbound PROPERTIES LABELS persist TIMEOUT 60
                       ENVIRONMENT "${persist_env}")

  # >= 20 kill -9 cycles under QoS 1 and QoS 2 load (about 40 s on the 2-core VM).
  add_test(NAME persist.crash COMMAND ${PERSIST_PYTHON3}
                                      ${CMAKE_CURRENT_SOURCE_DIR}/persist/crash_test.py)
  set_tests_properties(persist.crash PROPERTIES LABELS persist TIMEOUT 240
                       ENVIRONMENT "${persist_env};CRASH_CYCLES=24")
endif()
