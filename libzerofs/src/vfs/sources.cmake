list(APPEND ZEROFS_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/error.cpp
  ${CMAKE_CURRENT_LIST_DIR}/permission.cpp
  ${CMAKE_CURRENT_LIST_DIR}/fs_core.cpp
  ${CMAKE_CURRENT_LIST_DIR}/fs_names.cpp
  ${CMAKE_CURRENT_LIST_DIR}/fs_remove.cpp
  ${CMAKE_CURRENT_LIST_DIR}/fs_rename.cpp
  ${CMAKE_CURRENT_LIST_DIR}/fs_attr.cpp
  ${CMAKE_CURRENT_LIST_DIR}/fs_data.cpp
  ${CMAKE_CURRENT_LIST_DIR}/fs_dir.cpp
  ${CMAKE_CURRENT_LIST_DIR}/fs_xattr.cpp
  ${CMAKE_CURRENT_LIST_DIR}/locks.cpp
  ${CMAKE_CURRENT_LIST_DIR}/paths.cpp
)
