# Install rules: the binary, the public headers and the CMake package that plugins build against.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(ATTNBENCH_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/attnbench)

set_target_properties(attnbench_plugin_api PROPERTIES EXPORT_NAME plugin_api)
# The installed binary keeps the run path to libraries linked from outside the system
# folders (a pyenv/conda libpython the bridge embeds, a CUDA or MPI prefix); CMake
# would otherwise drop the build tree's run path and the installed binary would not start.
set_target_properties(attnbench PROPERTIES INSTALL_RPATH_USE_LINK_PATH ON)
install(TARGETS attnbench EXPORT attnbenchTargets RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS attnbench_plugin_api EXPORT attnbenchTargets)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/attnbench
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
install(EXPORT attnbenchTargets NAMESPACE attnbench:: DESTINATION ${ATTNBENCH_INSTALL_CMAKEDIR})

# Values the installed package hands to plugin projects.
file(STRINGS ${CMAKE_SOURCE_DIR}/include/attnbench/version.hpp _abi_line
     REGEX "^#define ATTNBENCH_ABI_VERSION [0-9]+")
string(REGEX REPLACE ".* ([0-9]+)$" "\\1" ATTNBENCH_ABI_VERSION "${_abi_line}")

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/attnbenchConfig.cmake.in
  ${CMAKE_BINARY_DIR}/attnbenchConfig.cmake
  INSTALL_DESTINATION ${ATTNBENCH_INSTALL_CMAKEDIR})
# 0.x: a new minor version may change the ABI, so only the same minor version matches.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/attnbenchConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/attnbenchConfig.cmake ${CMAKE_BINARY_DIR}/attnbenchConfigVersion.cmake
              ${CMAKE_CURRENT_LIST_DIR}/attnbenchPlugin.cmake
        DESTINATION ${ATTNBENCH_INSTALL_CMAKEDIR})
