# Orchestration examples: the original's producer and consumer in C++, and the demo
# pipeline (ETL -> Train -> Evaluate as separate processes over the mmap queue, or threads)
# that the README's main job runs.
foreach(example producer consumer pipeline)
  add_executable(example_${example} ${CMAKE_CURRENT_SOURCE_DIR}/${example}.cpp)
  mlops_configure_target(example_${example})
  target_link_libraries(example_${example} PRIVATE mlops::orchestration)
endforeach()
