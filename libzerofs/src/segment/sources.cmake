list(APPEND ZEROFS_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/extent_location.cpp
  ${CMAKE_CURRENT_LIST_DIR}/segment_format.cpp
  ${CMAKE_CURRENT_LIST_DIR}/segment_writer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/segment_reader.cpp
)
