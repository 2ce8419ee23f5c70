# status.cpp and log.cpp build zerofs_common (libzerofs/CMakeLists.txt): Status/Result and
# logging need nothing but the standard library, so programs that have no engine
# (zerofs-mount) link them without libzerofs. The rest is libzerofs's own: secret.cpp
# wipes with libsodium, env.cpp reads the process environment. The config file and its TOML
# parser belong to the programs (servers/common).
list(APPEND ZEROFS_COMMON_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/status.cpp
  ${CMAKE_CURRENT_LIST_DIR}/coding.cpp
  ${CMAKE_CURRENT_LIST_DIR}/log.cpp
)
list(APPEND ZEROFS_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/secret.cpp
  ${CMAKE_CURRENT_LIST_DIR}/env.cpp
)
