# cmake -DVTLD=<vtld> -DOUT=<file> -P print-default-config.cmake: OUT = `vtld --print-default-config`.
execute_process(COMMAND ${VTLD} --print-default-config OUTPUT_FILE ${OUT}.tmp RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${VTLD} --print-default-config failed: ${rc}")
endif()
file(RENAME ${OUT}.tmp ${OUT})
