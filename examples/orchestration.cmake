# Orchestration examples: the original's producer and consumer in C++, and the demo
# pipeline (ETL -> Train -> Evaluate as separate processes over the mmap queue, or threads)
# that the README's main job runs.
foreach(example producer consumer pipeline)
  add_executable(example_${example} ${CMAKE_CURRENT_SOURCE_DIR}/${example}.cpp)
  mlops_configure_target(example_${example})
  target_link_libraries(example_${example} PRIVATE mlops::orchestration)
  list(APPEND MLOPS_EXAMPLES example_${example})
endforeach()

# The pipeline's stages, and librdkafka's mock cluster in a process of its own
# (kafka://mock?mock.brokers=N), which it can run when the kafka backend is built.
target_sources(example_pipeline PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/pipeline_stages.cpp
                                        ${CMAKE_CURRENT_SOURCE_DIR}/kafka_mock_process.cpp)
if(MLOPS_KAFKA_BUILT AND TARGET PkgConfig::RDKAFKA)
  target_link_libraries(example_pipeline PRIVATE PkgConfig::RDKAFKA)
  target_compile_definitions(example_pipeline PRIVATE MLOPS_EXAMPLE_HAS_RDKAFKA=1)
endif()
