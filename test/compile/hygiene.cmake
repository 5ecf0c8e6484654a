# Headers include only what they use: a translation unit that includes a sync header
# must not see channels, select, timers or the context tree (issue 17). Run by ctest
# (header_hygiene): the compiler lists each header's dependencies (-M), and a forbidden
# one fails the test with the chain that pulled it in (-H).
set(light go/sync/mutex.hpp go/sync/rwmutex.hpp go/sync/once.hpp go/sync/cond.hpp
          go/sync/semaphore.hpp go/sync/wait_group.hpp go/sync/pool.hpp go/task.hpp
          go/spawn.hpp go/runtime.hpp go/blocking.hpp go/error.hpp)
set(forbidden "go/(chan|select|time|context)\\.hpp")
set(failed "")
foreach(h ${light})
  file(WRITE ${WORK_DIR}/hygiene.cpp "#include <${h}>\n")
  execute_process(COMMAND ${CXX} -std=c++20 -I${SOURCE_DIR}/include -I${GENERATED_INCLUDE} -M ${WORK_DIR}/hygiene.cpp
                  OUTPUT_VARIABLE deps ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${h} does not compile alone:\n${err}")
  endif()
  string(REGEX MATCHALL "${forbidden}" seen "${deps}")
  if(seen)
    list(REMOVE_DUPLICATES seen)
    list(APPEND failed "${h} pulls in ${seen}")
  endif()
endforeach()
if(failed)
  string(REPLACE ";" "\n  " failed "${failed}")
  message(FATAL_ERROR "headers that see more than they use:\n  ${failed}")
endif()
message(STATUS "header hygiene: ${light} see no channel, select, timer or context tree")
