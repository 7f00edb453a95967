# man_pages.cmake - run at build time (cmake -P) after the glimp binary
# GLIMP is linked: writes OUT/man1/glimp.1 and one OUT/man1/glimp-<command>.1
# per command that `glimp --help` lists, each made by help2man (HELP2MAN)
# from that command's --help, with VERSION as the version.
execute_process(COMMAND ${GLIMP} --help OUTPUT_VARIABLE help RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "man pages: '${GLIMP} --help' failed (${rc})")
endif()
# Command lines of the help: "  <name>   <summary>", after "commands:".
string(REGEX REPLACE ".*\ncommands:\n" "\n" listed "${help}")
string(REGEX MATCHALL "\n  [a-z][a-z-]* +[^\n]*" lines "${listed}")
if(NOT lines)
  message(FATAL_ERROR "man pages: no commands in '${GLIMP} --help'")
endif()

file(REMOVE_RECURSE ${OUT}/man1)
file(MAKE_DIRECTORY ${OUT}/man1)
set(see_also "")
foreach(line ${lines})
  string(REGEX REPLACE "^\n  ([a-z-]+) +(.*)$" "\\1" name "${line}")
  string(REGEX REPLACE "^\n  ([a-z-]+) +(.*)$" "\\2" summary "${line}")
  execute_process(COMMAND ${HELP2MAN} --no-info --name=${summary}
                          "--version-string=glimp-${name} (glimp) ${VERSION}"
                          "--help-option=${name} --help" --output=${OUT}/man1/glimp-${name}.1 ${GLIMP}
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "man pages: help2man failed on 'glimp ${name} --help'")
  endif()
  string(APPEND see_also ".BR glimp\\-${name} (1),\n")
endforeach()
string(REGEX REPLACE ",\n$" "\n" see_also "${see_also}")

# glimp(1) lists the command pages under SEE ALSO.
file(WRITE ${OUT}/see_also.h2m "[SEE ALSO]\n${see_also}")
execute_process(COMMAND ${HELP2MAN} --no-info
                        "--name=collaborative reasoning between a small and a large model"
                        "--version-string=glimp ${VERSION}" --include=${OUT}/see_also.h2m
                        --output=${OUT}/man1/glimp.1 ${GLIMP}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "man pages: help2man failed on 'glimp --help'")
endif()
