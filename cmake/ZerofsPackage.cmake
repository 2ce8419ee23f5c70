# What `cmake --install` and the Debian package (`cpack -G DEB`, scripts/package-deb.sh)
# put where: the programs (with man pages made from their --help), libzerofs with its
# headers, a CMake package config (find_package(zerofs), zerofs::zerofs) and a pkg-config
# file, and the documentation. The Debian package adds the system files (an example
# /etc/zerofs/zerofs.toml and the systemd units under packaging/), which a plain
# `cmake --install --prefix DIR` leaves out: they name /usr and /etc paths.
include(CMakePackageConfigHelpers)

set(ZEROFS_PROGRAMS zerofs_cli zerofs-nfs zerofs-9p zerofs-nbd zerofs-mount)

# --- Where the installed programs find libzerofs -------------------------------------
# In a system library directory (/usr/lib/<multiarch>) the loader finds it by itself;
# anywhere else (a --prefix of one's own) the programs carry a RUNPATH relative to
# themselves, so the install tree can move. The build tree's RUNPATH is never installed.
if(NOT "${CMAKE_INSTALL_FULL_LIBDIR}" IN_LIST CMAKE_CXX_IMPLICIT_LINK_DIRECTORIES)
  file(RELATIVE_PATH zerofs_bin_to_lib "${CMAKE_INSTALL_FULL_BINDIR}"
       "${CMAKE_INSTALL_FULL_LIBDIR}")
  set_target_properties(${ZEROFS_PROGRAMS} PROPERTIES INSTALL_RPATH "$ORIGIN/${zerofs_bin_to_lib}")
endif()

# --- CMake package config -------------------------------------------------------------
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

# --- pkg-config: prefix relative to the .pc file, so the install can move too ----------
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(ZEROFS_PC_PREFIX "")
  set(ZEROFS_PC_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
  set(ZEROFS_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
else()
  file(RELATIVE_PATH ZEROFS_PC_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
  string(REGEX REPLACE "/$" "" ZEROFS_PC_PREFIX "${ZEROFS_PC_PREFIX}")
  set(ZEROFS_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
  set(ZEROFS_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file("${CMAKE_CURRENT_SOURCE_DIR}/packaging/zerofs.pc.in"
               "${CMAKE_CURRENT_BINARY_DIR}/zerofs.pc" @ONLY)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/zerofs.pc"
        DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")

# --- Man pages, from each program's --help and --version ------------------------------
option(ZEROFS_MAN_PAGES "Generate the man pages with help2man (Debian package help2man)" ON)
if(ZEROFS_MAN_PAGES)
  find_program(ZEROFS_HELP2MAN help2man)
  if(NOT ZEROFS_HELP2MAN)
    message(FATAL_ERROR "help2man not found: scripts/install-deps.sh build installs it "
                        "(or configure with -DZEROFS_MAN_PAGES=OFF)")
  endif()
  set(zerofs_man_names
    "zerofs_cli=create, check and serve ZeroFS volumes kept in an S3-compatible bucket"
    "zerofs-nfs=serve a ZeroFS volume over NFSv3"
    "zerofs-9p=serve a ZeroFS volume over 9P2000.L"
    "zerofs-nbd=serve block devices kept in a ZeroFS volume over NBD"
    "zerofs-mount=mount a zerofs-9p server through FUSE")
  set(zerofs_man_pages "")
  foreach(entry IN LISTS zerofs_man_names)
    string(FIND "${entry}" "=" eq)
    string(SUBSTRING "${entry}" 0 ${eq} target)
    math(EXPR eq "${eq} + 1")
    string(SUBSTRING "${entry}" ${eq} -1 description)
    get_target_property(program ${target} OUTPUT_NAME)
    if(NOT program)
      set(program ${target})
    endif()
    set(page "${CMAKE_CURRENT_BINARY_DIR}/man/${program}.1")
    add_custom_command(
      OUTPUT "${page}.gz"
      COMMAND ${CMAKE_COMMAND} -E make_directory "${CMAKE_CURRENT_BINARY_DIR}/man"
      COMMAND "${CMAKE_CURRENT_SOURCE_DIR}/packaging/man/make-man-page.sh" "${ZEROFS_HELP2MAN}"
              "$<TARGET_FILE:${target}>" "${description}"
              "${CMAKE_CURRENT_SOURCE_DIR}/packaging/man/see-also.h2m" "${page}.gz"
      DEPENDS ${target} "${CMAKE_CURRENT_SOURCE_DIR}/packaging/man/see-also.h2m"
              "${CMAKE_CURRENT_SOURCE_DIR}/packaging/man/make-man-page.sh"
      COMMENT "Man page ${program}(1)"
      VERBATIM)
    list(APPEND zerofs_man_pages "${page}.gz")
  endforeach()
  add_custom_target(zerofs_man_pages ALL DEPENDS ${zerofs_man_pages})
  install(FILES ${zerofs_man_pages} DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")
endif()

# --- Documentation --------------------------------------------------------------------
file(GLOB zerofs_docs "${CMAKE_CURRENT_SOURCE_DIR}/docs/*.md")
install(FILES "${CMAKE_CURRENT_SOURCE_DIR}/README.md" ${zerofs_docs}
        DESTINATION "${CMAKE_INSTALL_DOCDIR}")
install(DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}/examples/monitoring"
        DESTINATION "${CMAKE_INSTALL_DOCDIR}/examples")

# --- System files: the Debian package only (component "system", not in a plain install)
set(ZEROFS_SYSTEMD_UNIT_DIR "/lib/systemd/system" CACHE STRING
    "Where the Debian package puts the systemd units")
install(FILES "${CMAKE_CURRENT_SOURCE_DIR}/packaging/zerofs.toml"
        DESTINATION /etc/zerofs COMPONENT system EXCLUDE_FROM_ALL)
install(FILES "${CMAKE_CURRENT_SOURCE_DIR}/packaging/systemd/zerofs.service"
              "${CMAKE_CURRENT_SOURCE_DIR}/packaging/systemd/zerofs-mount@.service"
        DESTINATION "${ZEROFS_SYSTEMD_UNIT_DIR}" COMPONENT system EXCLUDE_FROM_ALL)

# --- The Debian package ---------------------------------------------------------------
# One package, zerofs_VERSION_ARCH.deb, for /usr: everything above. Its Depends come from
# dpkg-shlibdeps on the programs and the library, plus fuse3 (fusermount3, for
# zerofs-mount and zerofs-mount@.service).
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "zerofs")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "ZeroFS")
set(CPACK_PACKAGE_CONTACT "ZeroFS maintainers <zerofs@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "filesystem and block devices kept in an S3-compatible bucket")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "ZeroFS turns an S3-compatible bucket into primary storage: a POSIX filesystem\n\
served over NFSv3 and 9P2000.L (with a FUSE client, zerofs-mount) and block\n\
devices over NBD. Everything written ends up in the bucket as immutable,\n\
compressed, encrypted objects; the local machine only caches.\n\
.\n\
This package holds the programs (zerofs, zerofs-nfs, zerofs-9p, zerofs-nbd,\n\
zerofs-mount), libzerofs with its headers, CMake and pkg-config files, the\n\
systemd units zerofs.service and zerofs-mount@.service, and an example\n\
/etc/zerofs/zerofs.toml.")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_FILE_NAME "DEB-DEFAULT")
set(CPACK_DEBIAN_PACKAGE_SECTION "admin")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "fuse3")
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_COMPONENTS_ALL Unspecified system)
# conffiles marks the config; triggers runs ldconfig for libzerofs (dpkg's trigger, since
# our own postinst/postrm replace the ones CPack would write with an ldconfig call).
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "")
foreach(control conffiles triggers postinst postrm)
  configure_file("${CMAKE_CURRENT_SOURCE_DIR}/packaging/debian/${control}"
                 "${CMAKE_CURRENT_BINARY_DIR}/debian/${control}" COPYONLY)
  list(APPEND CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${CMAKE_CURRENT_BINARY_DIR}/debian/${control}")
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# The build keeps its debug information; the package's copies are stripped.
set(CPACK_STRIP_FILES ON)
include(CPack)
