# Install the build tree into a scratch prefix, then configure, build and run a tiny
# outside project that uses find_package(gocoro) and gocoro::gocoro.
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "install failed")
endif()
set(flags "")
if(SANITIZE)  # the installed library was built with sanitizers: the consumer must link their runtime
  set(flags -DCMAKE_CXX_FLAGS=-fsanitize=${SANITIZE} -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=${SANITIZE})
endif()
# The consumer is built twice, with NDEBUG (Release) and without (Debug), against the
# same installed library: its checking mode comes from the library's generated
# build_config.hpp, not from the consumer's macros.
foreach(consumer_type Release Debug)
  set(dir ${WORK_DIR}/build-${consumer_type})
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/test/consumer -B ${dir} ${flags}
                          -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_CXX_COMPILER=${CXX}
                          -DCMAKE_BUILD_TYPE=${consumer_type}
                  RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "configuring the ${consumer_type} consumer failed")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${dir} RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "building the ${consumer_type} consumer (library: ${BUILD_TYPE}) failed")
  endif()
  execute_process(COMMAND ${dir}/consumer RESULT_VARIABLE rc OUTPUT_VARIABLE out)
  if(NOT rc EQUAL 0 OR NOT out MATCHES "consumer ok")
    message(FATAL_ERROR "the ${consumer_type} consumer failed: ${rc} ${out}")
  endif()
endforeach()
