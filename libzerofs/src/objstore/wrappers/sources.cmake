# Store wrappers: real library code used by tests and benchmarks (see objstore/wrappers.h).
list(APPEND ZEROFS_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/store_wrapper.cpp
  ${CMAKE_CURRENT_LIST_DIR}/fault_injecting_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/latency_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/metered_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/retrying_store.cpp
)
