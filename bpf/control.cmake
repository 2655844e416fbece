# The fast-path control library (fpctl.c) and its link into the broker. Included by
# bpf/CMakeLists.txt; without bpf/fastpath.bpf.c (no skeleton) the library still builds and
# fpctl_open() reports that the programs were not built, so the broker falls back to userspace.
add_library(fpctl STATIC ${CMAKE_CURRENT_LIST_DIR}/fpctl.c)
target_include_directories(fpctl PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_compile_definitions(fpctl PRIVATE _GNU_SOURCE)
target_link_libraries(fpctl PUBLIC PkgConfig::LIBBPF)
if(TARGET bpf_fastpath_skel)
  target_link_libraries(fpctl PRIVATE bpf_fastpath_skel)
  target_compile_definitions(fpctl PRIVATE FPCTL_HAVE_SKEL)
endif()

# The broker reaches the kernel only through fpctl (broker/fastpath_kern.c).
foreach(lib broker_core broker_core_fuzz)
  if(TARGET ${lib})
    target_link_libraries(${lib} PUBLIC fpctl)
    target_compile_definitions(${lib} PUBLIC MQTT_FAST_HAVE_FPCTL)
  endif()
endforeach()
