# Run a libFuzzer target for a fixed number of runs from its seed corpus (ctest
# fuzz_*). New inputs go to a scratch folder in the build tree, never into the source's
# corpus. -DFUZZER= -DCORPUS= -DWORK= -DRUNS=
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
execute_process(COMMAND ${FUZZER} -runs=${RUNS} -seed=1 -max_len=4096 -print_final_stats=1 ${WORK} ${CORPUS}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (exit ${rc}): the crashing input is in the current directory (crash-*)")
endif()
