# Finds libtorch in the order scripts/libtorch-locator.cjs defines (the runtime loader uses the same):
#   1. LIBTORCH_DIR (CMake variable or environment variable) or Torch_DIR (environment variable);
#   2. the python torch package python3 finds (how GPU machines have it);
#   3. the system (Debian's libtorch-dev).
# Sets TORCH_LIBRARIES, TORCH_CXX_FLAGS_LIST, LIBTORCH_LIBRARY_DIR, LIBTORCH_KEY, LIBTORCH_VERSION,
# LIBTORCH_IS_SYSTEM (a distribution's libtorch), LIBTORCH_CXX_STANDARD and BERT_EMBED_WITH_CUDA.

# (LIBTORCH_DIR as a CMake variable too; the environment's LIBTORCH_DIR or Torch_DIR the locator reads.
# Not a cached Torch_DIR: that is this file's own answer from an earlier configure.)
set(_locator_env "")
if(DEFINED LIBTORCH_DIR AND NOT "${LIBTORCH_DIR}" STREQUAL "")
  set(_locator_env "LIBTORCH_DIR=${LIBTORCH_DIR}")
endif()
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env ${_locator_env} node ${CMAKE_SOURCE_DIR}/scripts/libtorch-locator.cjs
  # (a relative LIBTORCH_DIR is read from the package root, where npm runs the install hook)
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  OUTPUT_VARIABLE _libtorch_json
  OUTPUT_STRIP_TRAILING_WHITESPACE
  RESULT_VARIABLE _locator_status)
if(NOT _locator_status EQUAL 0)
  message(FATAL_ERROR
    "bert-embed-native: libtorch was not found (${_libtorch_json}).\n"
    "  On Debian/Ubuntu: sudo apt-get install libtorch-dev libopenblas0-pthread   (or run: npm run setup)\n"
    "  Elsewhere: set LIBTORCH_DIR to an unpacked libtorch (the folder holding share/cmake/Torch) or a torch\n"
    "  package folder, or install the python torch package so that python3 finds it.")
endif()
string(JSON LIBTORCH_SOURCE GET "${_libtorch_json}" source)
string(JSON LIBTORCH_ROOT GET "${_libtorch_json}" root)
string(JSON _cmake_prefix GET "${_libtorch_json}" cmakePrefix)
string(JSON LIBTORCH_LIBRARY_DIR GET "${_libtorch_json}" libraryDir)
string(JSON LIBTORCH_VERSION GET "${_libtorch_json}" version)
string(JSON LIBTORCH_KEY GET "${_libtorch_json}" key)
string(JSON LIBTORCH_IS_SYSTEM GET "${_libtorch_json}" system)
string(JSON _cuda_type TYPE "${_libtorch_json}" cuda)
string(JSON _cuda_include GET "${_libtorch_json}" cudaIncludeDir)
message(STATUS "libtorch: ${LIBTORCH_VERSION} (${LIBTORCH_KEY}) from ${LIBTORCH_SOURCE}: ${LIBTORCH_ROOT}")

set(BERT_EMBED_WITH_CUDA OFF)
if(_cuda_type STREQUAL "NULL")
  # A CPU libtorch: torch's own CMake config. TorchConfig looks for c10 in the default paths before its
  # own; where Debian's libtorch-dev is installed too, a pip torch would be linked against Debian's libc10
  # and abort at load. Pin every library to the libtorch chosen above.
  # (Every cached answer is dropped first: a build folder may be configured again for another libtorch.)
  foreach(_library c10 torch torch_cpu C10 TORCH)
    string(TOLOWER ${_library} _name)
    unset(${_library}_LIBRARY CACHE)
    find_library(${_library}_LIBRARY ${_name} PATHS "${LIBTORCH_LIBRARY_DIR}" NO_DEFAULT_PATH)
  endforeach()
  set(Torch_DIR "${_cmake_prefix}/Torch" CACHE PATH "the libtorch scripts/libtorch-locator.cjs chose" FORCE)
  if(EXISTS "${_cmake_prefix}/Caffe2")
    set(Caffe2_DIR "${_cmake_prefix}/Caffe2" CACHE PATH "the libtorch scripts/libtorch-locator.cjs chose" FORCE)
  endif()
  list(PREPEND CMAKE_PREFIX_PATH "${_cmake_prefix}")
  find_package(Torch REQUIRED)
  separate_arguments(TORCH_CXX_FLAGS_LIST UNIX_COMMAND "${TORCH_CXX_FLAGS}")
else()
  # A CUDA libtorch: torch's CMake config demands a CUDA toolkit (nvcc), which this addon does not need: it
  # has no CUDA kernels of its own. It needs torch's headers, the CUDA runtime's headers and torch's
  # libraries, linked directly.
  set(BERT_EMBED_WITH_CUDA ON)
  if(_cuda_include STREQUAL "" OR _cuda_include STREQUAL "NOTFOUND")
    message(FATAL_ERROR "bert-embed-native: the CUDA libtorch at ${LIBTORCH_ROOT} needs the CUDA runtime's headers "
      "(cuda_runtime_api.h): install the nvidia-cuda-runtime and nvidia-cuda-crt wheels beside torch, or set CUDA_HOME to a CUDA toolkit.")
  endif()
  set(TORCH_LIBRARIES "")
  foreach(_library torch torch_cpu c10 torch_cuda c10_cuda)
    unset(_torch_${_library} CACHE)
    find_library(_torch_${_library} ${_library} PATHS "${LIBTORCH_LIBRARY_DIR}" NO_DEFAULT_PATH REQUIRED)
    list(APPEND TORCH_LIBRARIES "${_torch_${_library}}")
  endforeach()
  # torch_cuda registers the CUDA kernels when loaded; nothing of ours calls into it directly.
  list(APPEND TORCH_LIBRARIES "-Wl,--no-as-needed" "${_torch_torch_cuda}" "-Wl,--as-needed")
  set(TORCH_INCLUDE_DIRS "${LIBTORCH_ROOT}/include" "${LIBTORCH_ROOT}/include/torch/csrc/api/include" "${_cuda_include}")
  include_directories(SYSTEM ${TORCH_INCLUDE_DIRS})
  # The C++ ABI flag torch was built with (older 2.x releases set _GLIBCXX_USE_CXX11_ABI=0).
  file(STRINGS "${_cmake_prefix}/Torch/TorchConfig.cmake" _flags_line REGEX "set\\(TORCH_CXX_FLAGS \"")
  string(REGEX MATCH "\"([^\"]*)\"" _ "${_flags_line}")
  separate_arguments(TORCH_CXX_FLAGS_LIST UNIX_COMMAND "${CMAKE_MATCH_1}")
endif()

set(LIBTORCH_CXX_STANDARD 17)
foreach(_include_dir ${TORCH_INCLUDE_DIRS})
  if(EXISTS "${_include_dir}/ATen/ATen.h")
    file(STRINGS "${_include_dir}/ATen/ATen.h" _standard_line REGEX "C\\+\\+[0-9]+ or later")
    if(_standard_line MATCHES "C\\+\\+([0-9]+) or later" AND CMAKE_MATCH_1 GREATER LIBTORCH_CXX_STANDARD)
      set(LIBTORCH_CXX_STANDARD ${CMAKE_MATCH_1})
    endif()
    break()
  endif()
endforeach()

# Never two libtorch installs in one addon: every library must come from the chosen one.
get_filename_component(_library_dir_real "${LIBTORCH_LIBRARY_DIR}" REALPATH)
set(_torch_library_files ${TORCH_LIBRARIES} ${TORCH_LIBRARY})
foreach(_target torch torch_cpu torch_library c10 torch_cuda c10_cuda)
  if(TARGET ${_target})
    get_target_property(_imported ${_target} IMPORTED)
    if(_imported)
      foreach(_property IMPORTED_LOCATION IMPORTED_LOCATION_RELEASE IMPORTED_LOCATION_NOCONFIG)
        get_target_property(_location ${_target} ${_property})
        if(_location)
          list(APPEND _torch_library_files "${_location}")
        endif()
      endforeach()
    endif()
  endif()
endforeach()
foreach(_entry ${_torch_library_files})
  if(IS_ABSOLUTE "${_entry}" AND EXISTS "${_entry}" AND "${_entry}" MATCHES "/lib(c10|torch)[^/]*\\.so")
    get_filename_component(_entry_dir "${_entry}" DIRECTORY)
    get_filename_component(_entry_dir_real "${_entry_dir}" REALPATH)
    if(NOT _entry_dir_real STREQUAL _library_dir_real)
      message(FATAL_ERROR "bert-embed-native: ${_entry} is not part of the libtorch at ${LIBTORCH_LIBRARY_DIR}: "
        "two libtorch installs would be loaded into one process. Set LIBTORCH_DIR to one install.")
    endif()
  endif()
endforeach()
message(STATUS "libtorch: libraries in ${LIBTORCH_LIBRARY_DIR}, CUDA ${BERT_EMBED_WITH_CUDA}")
