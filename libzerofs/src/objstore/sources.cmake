list(APPEND ZEROFS_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/object_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/memory_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/open.cpp
  ${CMAKE_CURRENT_LIST_DIR}/local_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/s3_store.cpp
)
# Larger pieces keep their own lists.
include(${CMAKE_CURRENT_LIST_DIR}/s3/sources.cmake OPTIONAL)
include(${CMAKE_CURRENT_LIST_DIR}/wrappers/sources.cmake OPTIONAL)
