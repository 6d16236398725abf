# attnbench_add_plugin(name sources...): a MODULE library that `attnbench --plugin` can load.
#
# The plugin is compiled against the installed headers (attnbench::plugin_api),
# as C++20 position-independent code with hidden visibility, so only the two
# extern "C" entry points of ATTNBENCH_PLUGIN are exported; every attnbench
# function it calls (Mask, check_info, MemoryTracker...) resolves against the
# attnbench binary when it is loaded. CUDA sources (.cu) may be listed when the
# project has enabled CUDA; they get the same standard and visibility.
function(attnbench_add_plugin name)
  if(NOT ARGN)
    message(FATAL_ERROR "attnbench_add_plugin(${name}): no source files given")
  endif()
  # A plugin is benchmarked beside -O3 built-ins: without a build type CMake compiles
  # with no -O at all, so a caller that set none gets Release flags for this target.
  if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
    message(STATUS "attnbench_add_plugin(${name}): no CMAKE_BUILD_TYPE set, building it with Release flags")
    set(_attnbench_plugin_release ON)
  endif()
  add_library(${name} MODULE ${ARGN})
  if(_attnbench_plugin_release)
    target_compile_options(${name} PRIVATE
      $<$<COMPILE_LANGUAGE:CXX>:${CMAKE_CXX_FLAGS_RELEASE}> $<$<COMPILE_LANGUAGE:CUDA>:${CMAKE_CUDA_FLAGS_RELEASE}>)
  endif()
  target_link_libraries(${name} PRIVATE attnbench::plugin_api)
  target_compile_features(${name} PRIVATE cxx_std_20)
  set_target_properties(${name} PROPERTIES
    CXX_STANDARD 20
    CXX_STANDARD_REQUIRED ON
    CXX_EXTENSIONS OFF
    POSITION_INDEPENDENT_CODE ON
    CXX_VISIBILITY_PRESET hidden
    CUDA_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  get_property(_languages GLOBAL PROPERTY ENABLED_LANGUAGES)
  if(CUDA IN_LIST _languages AND NOT CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
    # The C++20 requirement of attnbench::plugin_api also applies to .cu files, but
    # CMake < 3.26 knows no C++20 flag for nvcc: give it one in the caller's scope.
    set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20" PARENT_SCOPE)
    set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20" PARENT_SCOPE)
  endif()
endfunction()
