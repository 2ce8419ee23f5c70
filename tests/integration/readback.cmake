# Small files written by several threads at once (a source tree's copy), read back exactly
# while segments are cut every few milliseconds and the collector runs, and after reopens
# (MemoryStore; seeded, prints its seed).
zerofs_test(integration_readback integration readback_stress_test.cpp)
