# ctest script: install attnbench into a scratch prefix, build examples/plugin against it as an
# outside project, run a sweep with --plugin and check the plugin's rows in results.json/.csv.
# Inputs (-D): SOURCE_DIR BINARY_DIR WORK_DIR GENERATOR MAKE_PROGRAM CXX_COMPILER CXX_LAUNCHER WITH_CUDA
# CUDA_COMPILER
cmake_minimum_required(VERSION 3.25)

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (exit ${rc}):\n${out}\n${err}")
  endif()
  set(step_output "${out}${err}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

# 1. Install: binary, headers, CMake package.
run_step("cmake --install" ${CMAKE_COMMAND} --install "${BINARY_DIR}" --prefix "${prefix}")
foreach(f bin/attnbench include/attnbench/plugin.hpp include/attnbench/backend.hpp
          lib/cmake/attnbench/attnbenchConfig.cmake lib/cmake/attnbench/attnbenchConfigVersion.cmake)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "install did not produce ${prefix}/${f}")
  endif()
endforeach()

# 2. The example plugin as an outside project: only find_package(attnbench) connects it to us.
set(example_build "${WORK_DIR}/example-build")
set(configure_args -S "${SOURCE_DIR}/examples/plugin" -B "${example_build}" -G "${GENERATOR}"
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    -DEXAMPLE_WITH_CUDA=${WITH_CUDA})
if(MAKE_PROGRAM)
  list(APPEND configure_args -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
if(WITH_CUDA AND CUDA_COMPILER)
  list(APPEND configure_args -DCMAKE_CUDA_COMPILER=${CUDA_COMPILER})
endif()
if(CXX_LAUNCHER)
  list(APPEND configure_args -DCMAKE_CXX_COMPILER_LAUNCHER=${CXX_LAUNCHER}
       -DCMAKE_CUDA_COMPILER_LAUNCHER=${CXX_LAUNCHER})
endif()
run_step("configuring examples/plugin" ${CMAKE_COMMAND} ${configure_args})
run_step("building examples/plugin" ${CMAKE_COMMAND} --build "${example_build}" -j2)
set(plugin "${example_build}/libattnbench_example.so")
if(NOT EXISTS "${plugin}")
  message(FATAL_ERROR "the example build produced no ${plugin}")
endif()
set(attnbench "${prefix}/bin/attnbench")

# 3. `list backends` names the plugin file as the origin, with --plugin and with ATTNBENCH_PLUGIN_PATH (a folder).
run_step("attnbench list backends --plugin" "${attnbench}" --plugin "${plugin}" list backends)
string(REGEX REPLACE "([.+*?^$()\\[\\]|])" "\\\\\\1" plugin_re "${plugin}")
if(NOT step_output MATCHES "example\\.naive +cpu +fp32 +any +${plugin_re} ")
  message(FATAL_ERROR "list backends does not show example.naive from ${plugin}:\n${step_output}")
endif()
run_step("attnbench list backends with ATTNBENCH_PLUGIN_PATH"
         ${CMAKE_COMMAND} -E env "ATTNBENCH_PLUGIN_PATH=${example_build}" "${attnbench}" list backends)
if(NOT step_output MATCHES "example\\.naive +cpu .* ${example_build}/+libattnbench_example\\.so ")
  message(FATAL_ERROR "ATTNBENCH_PLUGIN_PATH=${example_build} did not load the example:\n${step_output}")
endif()

# 4. A sweep: the backends glob resolves against plugin names, so plugins load before the scenario.
file(WRITE "${WORK_DIR}/scenario.yaml" [=[
name: plugin_install_test
backends: [example.*]
masks: [full, causal]
seqlens: [96]
seqlens_k: [128]
shape: {batch: 1, heads_q: 4, heads_kv: 2, head_dim: 16}
dtypes: [fp32]
passes: [fwd, bwd, fwd_bwd]
timing: {warmup: 0, min_iters: 1, max_iters: 2, min_time_s: 0, max_noise_pct: 100, timeout_s: 10}
check: {enabled: true, max_seqlen: 4096}
memory_budget_gb: 1
]=])
run_step("attnbench run --plugin" "${attnbench}" run "${WORK_DIR}/scenario.yaml" --out "${WORK_DIR}/out"
         --quiet --plugin "${plugin}")

# 5. results.json: six example.naive rows (2 masks x 3 passes), each ok and checked against cpu.reference.
file(READ "${WORK_DIR}/out/results.json" json)
string(JSON rows LENGTH "${json}" results)
set(naive_ok 0)
math(EXPR last "${rows} - 1")
foreach(i RANGE 0 ${last})
  string(JSON backend GET "${json}" results ${i} backend)
  string(JSON status GET "${json}" results ${i} status)
  string(JSON message GET "${json}" results ${i} message)
  string(JSON err_type TYPE "${json}" results ${i} rel_l2_err)
  if(backend STREQUAL "example.naive")
    if(NOT status STREQUAL "ok" OR NOT err_type STREQUAL "NUMBER" OR message MATCHES "not checked")
      message(FATAL_ERROR "example.naive row ${i}: status '${status}', rel_l2_err ${err_type}, message '${message}'")
    endif()
    string(JSON err GET "${json}" results ${i} rel_l2_err)
    if(err GREATER 1e-4)
      message(FATAL_ERROR "example.naive row ${i}: rel_l2_err ${err} above the fp32 tolerance")
    endif()
    math(EXPR naive_ok "${naive_ok} + 1")
  elseif(backend STREQUAL "example.cuda_naive")
    # Built only with CUDA: ok on a GPU (forward), otherwise declined with a reason.
    if(status STREQUAL "ok")
      if(NOT err_type STREQUAL "NUMBER" OR message MATCHES "not checked")
        message(FATAL_ERROR "example.cuda_naive row ${i} is ok but was not checked: '${message}'")
      endif()
    elseif(NOT (status STREQUAL "unsupported" AND message MATCHES "no CUDA device|pass .* not supported"))
      message(FATAL_ERROR "example.cuda_naive row ${i}: status '${status}', message '${message}'")
    endif()
  endif()
endforeach()
if(NOT naive_ok EQUAL 6)
  message(FATAL_ERROR "expected 6 checked ok rows of example.naive in results.json, found ${naive_ok}")
endif()

# 6. results.csv carries the same rows (status is the 15th column).
string(REPEAT "[^,]*," 13 thirteen_columns)  # CMake regexes have no {n}
file(STRINGS "${WORK_DIR}/out/results.csv" csv_ok REGEX "^example\\.naive,${thirteen_columns}ok,")
list(LENGTH csv_ok csv_count)
if(NOT csv_count EQUAL 6)
  message(FATAL_ERROR "expected 6 ok rows of example.naive in results.csv, found ${csv_count}")
endif()
message(STATUS "plugin install test: ${naive_ok} example.naive rows ok and checked")
