# Installs a package config so that an outside project can
#   find_package(zerofs) and target_link_libraries(app PRIVATE zerofs::zerofs)
include(CMakePackageConfigHelpers)
set(ZEROFS_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/zerofs")
install(EXPORT zerofsTargets NAMESPACE zerofs:: DESTINATION "${ZEROFS_CMAKE_DIR}")
configure_package_config_file(
  "${CMAKE_CURRENT_SOURCE_DIR}/cmake/zerofsConfig.cmake.in"
  "${CMAKE_CURRENT_BINARY_DIR}/zerofsConfig.cmake"
  INSTALL_DESTINATION "${ZEROFS_CMAKE_DIR}")
write_basic_package_version_file(
  "${CMAKE_CURRENT_BINARY_DIR}/zerofsConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}" COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/zerofsConfig.cmake"
              "${CMAKE_CURRENT_BINARY_DIR}/zerofsConfigVersion.cmake"
        DESTINATION "${ZEROFS_CMAKE_DIR}")
