list(APPEND ZEROFS_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/keys.cpp
  ${CMAKE_CURRENT_LIST_DIR}/records.cpp
  ${CMAKE_CURRENT_LIST_DIR}/journal.cpp
  ${CMAKE_CURRENT_LIST_DIR}/rocksdb_status.cpp
  ${CMAKE_CURRENT_LIST_DIR}/index_db.cpp
  ${CMAKE_CURRENT_LIST_DIR}/root.cpp
  ${CMAKE_CURRENT_LIST_DIR}/snapshot_manifest.cpp
  ${CMAKE_CURRENT_LIST_DIR}/snapshot.cpp
  ${CMAKE_CURRENT_LIST_DIR}/file_util.cpp
)
