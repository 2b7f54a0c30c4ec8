# The system's oneDNN (Debian's libdnnl-dev): headers and library of one version, checked against each
# other. Sets BERT_EMBED_ONEDNN_FOUND, BERT_EMBED_ONEDNN_INCLUDE_DIR (a folder holding only its oneapi/,
# to put before libtorch's include folders) and BERT_EMBED_ONEDNN_LIBRARY.

set(BERT_EMBED_ONEDNN_FOUND FALSE)
set(BERT_EMBED_ONEDNN_INCLUDE_DIR "")
set(BERT_EMBED_ONEDNN_LIBRARY "")

# Only the default system paths: libtorch's own include folders may hold a bundled oneDNN's headers.
find_path(SYSTEM_DNNL_INCLUDE_DIR oneapi/dnnl/dnnl_version.h NO_CMAKE_PATH NO_CMAKE_ENVIRONMENT_PATH NO_PACKAGE_ROOT_PATH)
find_library(SYSTEM_DNNL_LIBRARY dnnl NO_CMAKE_PATH NO_CMAKE_ENVIRONMENT_PATH NO_PACKAGE_ROOT_PATH)

if(SYSTEM_DNNL_INCLUDE_DIR AND SYSTEM_DNNL_LIBRARY)
  file(STRINGS "${SYSTEM_DNNL_INCLUDE_DIR}/oneapi/dnnl/dnnl_version.h" _dnnl_major REGEX "#define DNNL_VERSION_MAJOR [0-9]+")
  string(REGEX REPLACE ".* ([0-9]+)$" "\\1" _dnnl_major "${_dnnl_major}")
  get_filename_component(_dnnl_real "${SYSTEM_DNNL_LIBRARY}" REALPATH)
  if(NOT _dnnl_major STREQUAL "2")
    message(STATUS "oneDNN: the system's headers are version ${_dnnl_major}; the kernels are written for oneDNN 2: leaving them out")
  elseif(NOT _dnnl_real MATCHES "libdnnl\\.so\\.2(\\.|$)")
    message(STATUS "oneDNN: headers are version 2 but the library is ${_dnnl_real}: leaving the kernels out")
  else()
    # A folder with nothing but a link to the system's oneapi/: before libtorch's include folders it masks
    # a bundled oneDNN's headers without letting the system's libtorch headers (also in /usr/include) in.
    set(BERT_EMBED_ONEDNN_INCLUDE_DIR "${CMAKE_BINARY_DIR}/system-onednn-include")
    file(MAKE_DIRECTORY "${BERT_EMBED_ONEDNN_INCLUDE_DIR}")
    file(CREATE_LINK "${SYSTEM_DNNL_INCLUDE_DIR}/oneapi" "${BERT_EMBED_ONEDNN_INCLUDE_DIR}/oneapi" SYMBOLIC)
    set(BERT_EMBED_ONEDNN_LIBRARY "${SYSTEM_DNNL_LIBRARY}")
    set(BERT_EMBED_ONEDNN_FOUND TRUE)
    message(STATUS "oneDNN: ${_dnnl_real} with its headers in ${SYSTEM_DNNL_INCLUDE_DIR}")
  endif()
else()
  message(STATUS "oneDNN: the system's oneDNN (libdnnl-dev) was not found: building without the oneDNN linear layers")
endif()
