list(APPEND ZEROFS_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/secure_bytes.cpp
  ${CMAKE_CURRENT_LIST_DIR}/random.cpp
  ${CMAKE_CURRENT_LIST_DIR}/volume_uuid.cpp
  ${CMAKE_CURRENT_LIST_DIR}/key_ring.cpp
  ${CMAKE_CURRENT_LIST_DIR}/codec.cpp
  ${CMAKE_CURRENT_LIST_DIR}/frame.cpp
  ${CMAKE_CURRENT_LIST_DIR}/envelope.cpp
  ${CMAKE_CURRENT_LIST_DIR}/key_file.cpp
  ${CMAKE_CURRENT_LIST_DIR}/volume_key.cpp
)
