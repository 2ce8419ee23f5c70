list(APPEND ZEROFS_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/volume_impl.cpp
  ${CMAKE_CURRENT_LIST_DIR}/lifecycle.cpp
  ${CMAKE_CURRENT_LIST_DIR}/recovery.cpp
  ${CMAKE_CURRENT_LIST_DIR}/journal_replayer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pipeline_commit.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pipeline_flush.cpp
  ${CMAKE_CURRENT_LIST_DIR}/snapshots.cpp
  ${CMAKE_CURRENT_LIST_DIR}/checkpoints.cpp
  ${CMAKE_CURRENT_LIST_DIR}/collector.cpp
  ${CMAKE_CURRENT_LIST_DIR}/compaction.cpp
  ${CMAKE_CURRENT_LIST_DIR}/checkpoint_record.cpp
)
