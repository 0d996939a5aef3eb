# Seeds a fresh corpus (when SEEDER names a seed writer), then fuzzes for SECONDS; fails on any finding.
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR}/corpus ${WORK_DIR}/artifacts)
if(SEEDER)
  execute_process(COMMAND ${SEEDER} ${WORK_DIR}/corpus RESULT_VARIABLE seeded)
  if(NOT seeded EQUAL 0)
    message(FATAL_ERROR "seed corpus writer failed: ${seeded}")
  endif()
endif()
execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -max_len=4096 -print_final_stats=1
          -artifact_prefix=${WORK_DIR}/artifacts/ ${WORK_DIR}/corpus
  RESULT_VARIABLE fuzzed)
if(NOT fuzzed EQUAL 0)
  message(FATAL_ERROR "${FUZZER} found a problem (exit ${fuzzed}); inputs in ${WORK_DIR}/artifacts")
endif()
