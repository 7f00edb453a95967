# uninstall.cmake - `make uninstall` (cmake -DBUILD=build -DPREFIX=/usr/local
# [-DDESTDIR=/stage] -P cmake/uninstall.cmake): removes from DESTDIR+PREFIX
# exactly the files an install of the build folder BUILD writes there. It
# installs BUILD into a scratch folder first and removes what that holds, so
# no record of an earlier install is needed. Folders are left in place.
get_filename_component(BUILD "${BUILD}" ABSOLUTE) # relative to the current folder
if(DESTDIR)
  get_filename_component(DESTDIR "${DESTDIR}" ABSOLUTE)
endif()
if(NOT EXISTS "${BUILD}/cmake_install.cmake")
  message(FATAL_ERROR "uninstall: ${BUILD} is not a configured build folder (run make first)")
endif()
set(scratch "${BUILD}/uninstall-scratch")
file(REMOVE_RECURSE "${scratch}")
execute_process(COMMAND ${CMAKE_COMMAND} -E env DESTDIR=${scratch}
                        ${CMAKE_COMMAND} --install ${BUILD} --prefix ${PREFIX}
                OUTPUT_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "uninstall: could not list the installed files (cmake --install failed)")
endif()
file(GLOB_RECURSE files LIST_DIRECTORIES false RELATIVE "${scratch}" "${scratch}/*")
foreach(f ${files})
  set(path "${DESTDIR}/${f}")
  if(EXISTS "${path}" OR IS_SYMLINK "${path}")
    message(STATUS "Removing: ${path}")
    file(REMOVE "${path}")
  endif()
endforeach()
file(REMOVE_RECURSE "${scratch}")
