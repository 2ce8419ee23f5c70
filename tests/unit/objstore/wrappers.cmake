# Store wrappers: fault injection, simulated latency and bandwidth, metering.
zerofs_test(unit_wrappers unit fault_injecting_store_test.cpp latency_metered_store_test.cpp
           retrying_store_test.cpp)
