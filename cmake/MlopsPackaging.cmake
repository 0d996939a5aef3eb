# .deb packages, one per install component: `cpack -G DEB` in a build directory (the shared
# preset's: configure it with -DCMAKE_INSTALL_PREFIX=/usr for packages that install into /usr).
#   Runtime      libmlops<SOVERSION>  the two shared libraries
#   Development  libmlops-dev         headers, the CMake package, the pkg-config files (and, in
#                                     a static build, the two archives)
#   Tools        mlops-tools          the mlops command line and its plot script
#   Python       python3-mlops        the Python package
# The Depends of the Runtime and Tools packages are what dpkg-shlibdeps finds the binaries
# link (libflatbuffers2, librdkafka1, libhiredis0.14, libstdc++6, libc6).

set(CPACK_PACKAGE_NAME mlops)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_CONTACT "mlops maintainers <mlops@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)

set(CPACK_COMPONENTS_ALL Development)
set(mlops_dev_depends libflatbuffers-dev)  # the public headers include FlatBuffers'
if(MLOPS_KAFKA_BUILT)
  list(APPEND mlops_dev_depends librdkafka-dev)  # named by the pkg-config file
endif()
if(MLOPS_REDIS_BUILT)
  list(APPEND mlops_dev_depends libhiredis-dev)
endif()
list(JOIN mlops_dev_depends ", " CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME libmlops-dev)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEVELOPMENT_DESCRIPTION "mlops: headers, CMake package and pkg-config files")

if(MLOPS_SHARED)
  list(APPEND CPACK_COMPONENTS_ALL Runtime)
  set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libmlops${MLOPS_SOVERSION})
  set(CPACK_DEBIAN_RUNTIME_PACKAGE_GENERATE_SHLIBS ON)
  set(CPACK_COMPONENT_RUNTIME_DESCRIPTION "mlops: the shared libraries (messaging, orchestration)")
  set(CPACK_COMPONENT_DEVELOPMENT_DEPENDS Runtime)  # Depends: libmlopsX.Y (= version)
  # dpkg-shlibdeps finds the Runtime package's own libraries in the build tree (they are not
  # installed while packaging; libmlops_orchestration and the Python extension link them):
  # no Debian package holds them, so the packages depend on the Runtime one by name.
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR}/src
                                                 ${PROJECT_BINARY_DIR}/src/orchestration)
endif()

if(TARGET mlops_tool)
  list(APPEND CPACK_COMPONENTS_ALL Tools)
  set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME mlops-tools)
  set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION utils)
  set(CPACK_COMPONENT_TOOLS_DESCRIPTION "mlops: the mlops command line (send, tail, topics, inspect, perf)")
endif()

if(TARGET mlops_python)
  list(APPEND CPACK_COMPONENTS_ALL Python)
  set(CPACK_DEBIAN_PYTHON_PACKAGE_NAME python3-mlops)
  set(CPACK_DEBIAN_PYTHON_PACKAGE_SECTION python)
  set(CPACK_COMPONENT_PYTHON_DESCRIPTION "mlops: the Python package (mlops.messaging, mlops.orchestration)")
  # The extension is built for one interpreter's ABI (python/CMakeLists.txt says which).
  math(EXPR mlops_python_next "${MLOPS_PYTHON_VERSION_MINOR} + 1")
  set(CPACK_DEBIAN_PYTHON_PACKAGE_DEPENDS
      "python3 (>= ${MLOPS_PYTHON_VERSION_MAJOR}.${MLOPS_PYTHON_VERSION_MINOR}), python3 (<< ${MLOPS_PYTHON_VERSION_MAJOR}.${mlops_python_next})")
  if(MLOPS_SHARED)
    set(CPACK_COMPONENT_PYTHON_DEPENDS Runtime)
  endif()
endif()

include(CPack)
