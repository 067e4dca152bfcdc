# Test helpers: one doctest executable per area, registered with CTest as one entry per test file.
#
#   troupe_add_test_suite(<name> <label> <sources>...)
#
# builds executable <name> from <sources> plus the shared doctest main (troupe_doctest_main),
# links troupe::troupe and the warning flags, and registers one CTest entry per source named
# *_test.cpp: <name>.<file stem without _test> (e.g. test_actors.request for actors/request_test.cpp),
# which runs only that file's test cases (doctest's --source-file), with LABELS <label>, a
# TIMEOUT, and the test watchdog's limits (tests/watchdog.hpp) in its environment. Other sources
# (helpers, generated code) must hold no test case. So one flaky case fails one small entry, and
# the rest of the executable still runs and reports.
#
# The entry test_entries_cover_every_case (cmake/CheckTestEntries.cmake) checks, from what
# `ctest --show-only` lists, that every test case of every suite belongs to exactly one entry, and
# that no entry is empty: a test file left out, a filter that matches nothing or a test case in a
# header fails it. Under a sanitizer (TROUPE_SANITIZE) the stress tests scale down:
# TROUPE_TEST_SCALE_DIVISOR divides their counts.
include_guard(GLOBAL)

find_package(doctest CONFIG REQUIRED)

set(TROUPE_TEST_TIMEOUT 300 CACHE STRING "CTest timeout of each troupe test entry (one test file), in seconds")
# The test watchdog's memory limit (tests/watchdog.hpp): far above what any entry needs (a few
# hundred MiB at most, under a sanitizer), far below what would starve the machine.
set(TROUPE_TEST_MAX_RSS_MIB 4096 CACHE STRING "Resident memory (MiB) over which the test watchdog stops a test entry")

if(NOT TARGET troupe_doctest_main)
  add_library(troupe_doctest_main STATIC ${PROJECT_SOURCE_DIR}/tests/doctest_main.cpp
                                         ${PROJECT_SOURCE_DIR}/tests/watchdog.cpp)
  target_link_libraries(troupe_doctest_main PUBLIC doctest::doctest Threads::Threads PRIVATE troupe_warnings)
endif()

function(troupe_add_test_suite name label)
  set(sources ${ARGN})
  if(NOT sources)
    message(FATAL_ERROR "troupe_add_test_suite(${name}): no sources")
  endif()
  add_executable(${name} ${sources})
  target_link_libraries(${name} PRIVATE troupe::troupe troupe_doctest_main troupe_warnings Threads::Threads)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  if(NOT TROUPE_SANITIZE STREQUAL "")
    target_compile_definitions(${name} PRIVATE TROUPE_TEST_SCALE_DIVISOR=25 TROUPE_TEST_SANITIZED=1)
  endif()

  set(entries 0)
  foreach(source IN LISTS sources)
    get_filename_component(file "${source}" NAME)
    if(NOT file MATCHES "^(.+)_test\\.cpp$")
      continue()
    endif()
    set(entry ${name}.${CMAKE_MATCH_1})
    if(TEST ${entry})
      message(FATAL_ERROR "troupe_add_test_suite(${name}): two test files make the entry ${entry}")
    endif()
    # The filter matches the end of __FILE__, whatever comes before (an absolute path, or the
    # relative one a compiler launcher such as ccache passes); the leading / keeps
    # mailbox_test.cpp from matching bounded_mailbox_test.cpp.
    file(RELATIVE_PATH relative ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/${source})
    add_test(NAME ${entry} COMMAND ${name} --no-intro=true --source-file=*/${relative})
    # The watchdog reports a hang 10% before CTest's timeout would kill the entry unreported.
    math(EXPR stall "${TROUPE_TEST_TIMEOUT} - ${TROUPE_TEST_TIMEOUT} / 10")
    set_tests_properties(${entry} PROPERTIES LABELS "${label}" TIMEOUT ${TROUPE_TEST_TIMEOUT}
                         ENVIRONMENT "TROUPE_TEST_STALL_S=${stall};TROUPE_TEST_MAX_RSS_MIB=${TROUPE_TEST_MAX_RSS_MIB}")
    math(EXPR entries "${entries} + 1")
  endforeach()
  if(entries EQUAL 0)
    message(FATAL_ERROR "troupe_add_test_suite(${name}): no source named *_test.cpp")
  endif()

  # The coverage check is registered once, after the last suite of this directory.
  get_property(suites GLOBAL PROPERTY TROUPE_TEST_SUITES)
  if(NOT suites)
    cmake_language(DEFER CALL _troupe_add_test_entries_check)
  endif()
  set_property(GLOBAL APPEND PROPERTY TROUPE_TEST_SUITES ${name})
endfunction()

function(_troupe_add_test_entries_check)
  get_property(suites GLOBAL PROPERTY TROUPE_TEST_SUITES)
  set(executables)
  foreach(suite IN LISTS suites)
    list(APPEND executables $<TARGET_FILE:${suite}>)
  endforeach()
  list(JOIN executables "|" executables)
  add_test(NAME test_entries_cover_every_case
           COMMAND ${CMAKE_COMMAND} -DCTEST=${CMAKE_CTEST_COMMAND} -DBUILD_DIR=${CMAKE_BINARY_DIR}
                   "-DEXECUTABLES=${executables}" -P ${PROJECT_SOURCE_DIR}/cmake/CheckTestEntries.cmake)
  set_tests_properties(test_entries_cover_every_case PROPERTIES LABELS tests TIMEOUT 300)
endfunction()
