list(APPEND ZEROFS_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/extent_cache.cpp
  ${CMAKE_CURRENT_LIST_DIR}/disk_cache_entry.cpp
  ${CMAKE_CURRENT_LIST_DIR}/disk_cache.cpp
  ${CMAKE_CURRENT_LIST_DIR}/prefetch_pool.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cached_extent_reader.cpp
  ${CMAKE_CURRENT_LIST_DIR}/claimed_reads.cpp
)
