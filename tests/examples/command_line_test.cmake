# Runs an example (or tool) PROGRAM twice: `--help` must print a usage line on stdout and
# exit 0; an unknown flag must print a usage line on stderr and exit 2, doing nothing else.
# cmake -DPROGRAM=path -P command_line_test.cmake
if(NOT PROGRAM)
  message(FATAL_ERROR "PROGRAM is not set")
endif()

execute_process(COMMAND ${PROGRAM} --help RESULT_VARIABLE status OUTPUT_VARIABLE out
                ERROR_VARIABLE err TIMEOUT 20)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} --help exited with ${status}, not 0\n${out}${err}")
endif()
if(NOT out MATCHES "^usage: ")
  message(FATAL_ERROR "${PROGRAM} --help printed no usage line first:\n${out}")
endif()

execute_process(COMMAND ${PROGRAM} --no-such-flag RESULT_VARIABLE status OUTPUT_VARIABLE out
                ERROR_VARIABLE err TIMEOUT 20)
if(NOT status EQUAL 2)
  message(FATAL_ERROR "${PROGRAM} --no-such-flag exited with ${status}, not 2\n${out}${err}")
endif()
if(NOT err MATCHES "usage: ")
  message(FATAL_ERROR "${PROGRAM} --no-such-flag printed no usage line on stderr:\n${err}")
endif()
if(NOT out STREQUAL "")
  message(FATAL_ERROR "${PROGRAM} --no-such-flag did something:\n${out}")
endif()
message(STATUS "${PROGRAM}: --help and an unknown flag answered")
