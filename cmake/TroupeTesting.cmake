# Test helpers: one doctest executable per area, registered with CTest as one test.
#
#   troupe_add_test_suite(<name> <label> <sources>...)
#
# builds executable <name> from <sources> plus the shared doctest main (troupe_doctest_main),
# links troupe::troupe and the warning flags, and registers it with CTest under <name> with
# LABELS <label> and a TIMEOUT. Under a sanitizer (TROUPE_SANITIZE) the stress tests scale down:
# TROUPE_TEST_SCALE_DIVISOR divides their counts.
include_guard(GLOBAL)

find_package(doctest CONFIG REQUIRED)

set(TROUPE_TEST_TIMEOUT 300 CACHE STRING "CTest timeout of each troupe test executable, in seconds")

if(NOT TARGET troupe_doctest_main)
  add_library(troupe_doctest_main STATIC ${PROJECT_SOURCE_DIR}/tests/doctest_main.cpp)
  target_link_libraries(troupe_doctest_main PUBLIC doctest::doctest PRIVATE troupe_warnings)
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
  add_test(NAME ${name} COMMAND ${name} --no-intro=true)
  set_tests_properties(${name} PROPERTIES LABELS "${label}" TIMEOUT ${TROUPE_TEST_TIMEOUT})
endfunction()
