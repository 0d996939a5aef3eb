# pkg-config files for the two libraries (mlops-messaging.pc, mlops-orchestration.pc), for
# builds that do not use CMake: c++ -std=c++20 app.cpp $(pkg-config --cflags --libs mlops-orchestration)
# The dependencies' names are Debian's .pc files: flatbuffers, rdkafka, hiredis.

# From <prefix>/<libdir>/pkgconfig back up to <prefix>.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  message(FATAL_ERROR "mlops: the pkg-config files need a CMAKE_INSTALL_LIBDIR relative to the prefix")
endif()
file(RELATIVE_PATH MLOPS_PC_PREFIX_FROM_PCDIR /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" MLOPS_PC_PREFIX_FROM_PCDIR "${MLOPS_PC_PREFIX_FROM_PCDIR}")

set(MLOPS_PC_BACKENDS)
if(MLOPS_KAFKA_BUILT)
  list(APPEND MLOPS_PC_BACKENDS rdkafka)
endif()
if(MLOPS_REDIS_BUILT)
  list(APPEND MLOPS_PC_BACKENDS hiredis)
endif()
list(JOIN MLOPS_PC_BACKENDS ", " MLOPS_PC_BACKENDS)
set(MLOPS_PC_REQUIRES_STATIC)
set(MLOPS_PC_REQUIRES_SHARED)
if(MLOPS_SHARED)
  set(MLOPS_PC_REQUIRES_SHARED "${MLOPS_PC_BACKENDS}")
elseif(MLOPS_PC_BACKENDS)
  set(MLOPS_PC_REQUIRES_STATIC ", ${MLOPS_PC_BACKENDS}")
endif()

set(mlops_pc_files mlops-messaging.pc)
if(TARGET mlops_orchestration)
  list(APPEND mlops_pc_files mlops-orchestration.pc)
endif()
foreach(pc IN LISTS mlops_pc_files)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${pc}.in ${PROJECT_BINARY_DIR}/pkgconfig/${pc} @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/pkgconfig/${pc}
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT Development)
endforeach()
