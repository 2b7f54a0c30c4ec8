# Finds libtorch in this order:
#   1. LIBTORCH_DIR or Torch_DIR (CMake variable or environment variable);
#   2. the CMake prefix of an installed python `torch` package (how GPU machines have it);
#   3. the system (Debian's libtorch-dev).
# Sets TORCH_LIBRARIES, TORCH_CXX_FLAGS_LIST, LIBTORCH_LIBRARY_DIR and BERT_EMBED_WITH_CUDA.

set(_libtorch_hint "")
foreach(_var LIBTORCH_DIR Torch_DIR)
  if(DEFINED ${_var} AND NOT "${${_var}}" STREQUAL "" AND NOT "${${_var}}" MATCHES "NOTFOUND")
    set(_libtorch_hint "${${_var}}")
  elseif(DEFINED ENV{${_var}} AND NOT "$ENV{${_var}}" STREQUAL "")
    set(_libtorch_hint "$ENV{${_var}}")
  endif()
  if(_libtorch_hint)
    break()
  endif()
endforeach()

if(_libtorch_hint)
  message(STATUS "libtorch: using ${_libtorch_hint} (from LIBTORCH_DIR/Torch_DIR)")
  list(PREPEND CMAKE_PREFIX_PATH "${_libtorch_hint}")
else()
  foreach(_python python3 /usr/bin/python3)
    execute_process(
      COMMAND ${_python} -c "import torch.utils; print(torch.utils.cmake_prefix_path)"
      OUTPUT_VARIABLE _python_torch_prefix
      OUTPUT_STRIP_TRAILING_WHITESPACE
      ERROR_QUIET
      RESULT_VARIABLE _python_status)
    if(_python_status EQUAL 0 AND EXISTS "${_python_torch_prefix}/Torch/TorchConfig.cmake")
      message(STATUS "libtorch: using python torch at ${_python_torch_prefix}")
      list(PREPEND CMAKE_PREFIX_PATH "${_python_torch_prefix}")
      break()
    endif()
  endforeach()
endif()

# TorchConfig looks for c10 in the default paths before its own: where Debian's libtorch-dev is
# installed too, a pip torch would be linked against Debian's libc10 and abort at load. Pin it to
# the libtorch chosen above (LIBTORCH_DIR may be the libtorch folder or its share/cmake).
foreach(_prefix ${_libtorch_hint} ${_python_torch_prefix})
  foreach(_library c10 torch torch_cpu c10_cuda torch_cuda)
    find_library(${_library}_LIBRARY ${_library} PATHS "${_prefix}/lib" "${_prefix}/../../lib" NO_DEFAULT_PATH)
  endforeach()
  find_library(C10_LIBRARY c10 PATHS "${_prefix}/lib" "${_prefix}/../../lib" NO_DEFAULT_PATH)
endforeach()

find_package(Torch QUIET)
if(NOT Torch_FOUND)
  message(FATAL_ERROR
    "bert-embed-native: libtorch was not found.\n"
    "  On Debian/Ubuntu: sudo apt-get install libtorch-dev libopenblas0-pthread   (or run: npm run setup)\n"
    "  Elsewhere: set LIBTORCH_DIR to an unpacked libtorch (the folder holding share/cmake/Torch),\n"
    "  or install the python torch package so that `python3 -c 'import torch'` works.")
endif()

# Never two libtorch installs in one addon: every library must come from the chosen one.
get_filename_component(_torch_prefix_real "${TORCH_INSTALL_PREFIX}" REALPATH)
set(_torch_library_files ${TORCH_LIBRARIES})
foreach(_library c10 torch torch_cpu c10_cuda torch_cuda C10)
  list(APPEND _torch_library_files ${${_library}_LIBRARY})
  if(TARGET ${_library})
    get_target_property(_location ${_library} IMPORTED_LOCATION)
    list(APPEND _torch_library_files ${_location})
  endif()
endforeach()
foreach(_entry ${_torch_library_files})
  if(IS_ABSOLUTE "${_entry}" AND EXISTS "${_entry}")
    get_filename_component(_entry_real "${_entry}" REALPATH)
    string(FIND "${_entry_real}" "${_torch_prefix_real}/" _at)
    if(NOT _at EQUAL 0)
      message(FATAL_ERROR "bert-embed-native: ${_entry} is not part of the libtorch at ${TORCH_INSTALL_PREFIX}: "
        "two libtorch installs would be loaded into one process. Set LIBTORCH_DIR to one install.")
    endif()
  endif()
endforeach()

separate_arguments(TORCH_CXX_FLAGS_LIST UNIX_COMMAND "${TORCH_CXX_FLAGS}")
find_library(_c10_library c10 PATHS "${TORCH_INSTALL_PREFIX}/lib" NO_DEFAULT_PATH)
if(NOT _c10_library)
  find_library(_c10_library c10)
endif()
get_filename_component(LIBTORCH_LIBRARY_DIR "${_c10_library}" DIRECTORY)

set(BERT_EMBED_WITH_CUDA OFF)
if(TARGET torch_cuda OR CAFFE2_USE_CUDA)
  set(BERT_EMBED_WITH_CUDA ON)
endif()
message(STATUS "libtorch: ${Torch_DIR} (libraries in ${LIBTORCH_LIBRARY_DIR}, CUDA ${BERT_EMBED_WITH_CUDA})")
