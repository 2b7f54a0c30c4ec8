# Compiles a TorchScript source file into a C++ header as a string constant,
# so the addon needs no file beside it at run time.
function(embed_torchscript source_file header_file variable_name)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${source_file}")
  file(READ "${source_file}" _script)
  file(WRITE "${header_file}.tmp"
    "// Generated from ${source_file} by CMake. Do not edit.\n#pragma once\n"
    "static const char* const ${variable_name} = R\"BERT_TORCHSCRIPT(${_script})BERT_TORCHSCRIPT\";\n")
  file(COPY_FILE "${header_file}.tmp" "${header_file}" ONLY_IF_DIFFERENT)
endfunction()
