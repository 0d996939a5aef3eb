# Per-target compiler settings: warnings, sanitizers, fuzzing instrumentation.
# Applied to every target this project builds; never through global CMAKE_CXX_FLAGS.

# Warnings every target is held to; MLOPS_WERROR turns them into errors (CI does).
function(mlops_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  # g++ 12 at -O3 reports std::string concatenation inside libstdc++ as overlapping memcpy
  # (-Wrestrict false positive, GCC bug 105329, fixed in g++ 13); nothing of ours is involved.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(MLOPS_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# Sanitizers named in MLOPS_SANITIZE (e.g. "address,undefined" or "thread"), and
# coverage instrumentation for libFuzzer when MLOPS_BUILD_FUZZERS is on.
function(mlops_set_instrumentation target)
  if(MLOPS_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${MLOPS_SANITIZE} -fno-omit-frame-pointer
                                             -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=${MLOPS_SANITIZE})
  endif()
  if(MLOPS_BUILD_FUZZERS)
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endfunction()

# Everything above, for a target of this project.
function(mlops_configure_target target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF POSITION_INDEPENDENT_CODE ON)
  mlops_set_warnings(${target})
  mlops_set_instrumentation(${target})
endfunction()

# What a library of the installed API gets on top (mlops_messaging, mlops_orchestration and
# the backends' objects in it): built shared, only what the public headers mark with
# MLOPS_EXPORT (include/mlops/export.h) is exported, and the file carries the version.
# SOVERSION is MAJOR.MINOR: like the CMake package (SameMinorVersion), a minor release may
# change the ABI.
function(mlops_configure_library target)
  if(NOT MLOPS_SHARED)
    return()
  endif()
  set_target_properties(${target} PROPERTIES CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "SHARED_LIBRARY")
    set_target_properties(${target} PROPERTIES VERSION ${PROJECT_VERSION}
                                               SOVERSION ${MLOPS_SOVERSION})
    # A symbol the library needs but neither it nor what it links defines (one left hidden in
    # libmlops_messaging) fails here, not at its users' links. Sanitizer runtimes resolve later.
    if(NOT MLOPS_SANITIZE)
      target_link_options(${target} PRIVATE LINKER:--no-undefined)
    endif()
  endif()
endfunction()
