# The S3 client behind S3Store (../s3_store.cpp): one concept per file.
list(APPEND ZEROFS_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/digest.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sigv4.cpp
  ${CMAKE_CURRENT_LIST_DIR}/xml.cpp
  ${CMAKE_CURRENT_LIST_DIR}/responses.cpp
  ${CMAKE_CURRENT_LIST_DIR}/credentials.cpp
  ${CMAKE_CURRENT_LIST_DIR}/endpoint.cpp
  ${CMAKE_CURRENT_LIST_DIR}/errors.cpp
  ${CMAKE_CURRENT_LIST_DIR}/http_client.cpp
  ${CMAKE_CURRENT_LIST_DIR}/client.cpp
  ${CMAKE_CURRENT_LIST_DIR}/multipart.cpp
  ${CMAKE_CURRENT_LIST_DIR}/store_impl.cpp
  ${CMAKE_CURRENT_LIST_DIR}/put.cpp
  ${CMAKE_CURRENT_LIST_DIR}/probe.cpp
)
