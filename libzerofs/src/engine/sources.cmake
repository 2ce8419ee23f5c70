list(APPEND ZEROFS_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/volume_open.cpp
  ${CMAKE_CURRENT_LIST_DIR}/volume_impl.cpp
  ${CMAKE_CURRENT_LIST_DIR}/volume_flush.cpp
  ${CMAKE_CURRENT_LIST_DIR}/volume_gc.cpp
  ${CMAKE_CURRENT_LIST_DIR}/checkpoint_record.cpp
)
