# Runs flatc at build time; generated code is a build product, never committed.

if(TARGET flatbuffers::flatc)
  set(MLOPS_FLATC $<TARGET_FILE:flatbuffers::flatc>)
else()
  find_program(MLOPS_FLATC flatc REQUIRED)
endif()

# mlops_flatc_cpp(OUT_VAR SCHEMA OUTPUT_DIR): C++ header for SCHEMA into OUTPUT_DIR;
# OUT_VAR receives the header's path.
function(mlops_flatc_cpp out_var schema output_dir)
  get_filename_component(name ${schema} NAME_WE)
  set(header ${output_dir}/${name}_generated.h)
  add_custom_command(
    OUTPUT ${header}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${output_dir}
    COMMAND ${MLOPS_FLATC} --cpp --scoped-enums -o ${output_dir} ${schema}
    DEPENDS ${schema}
    COMMENT "flatc: generating ${name}_generated.h"
    VERBATIM)
  set(${out_var} ${header} PARENT_SCOPE)
endfunction()
