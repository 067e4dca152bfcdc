// Wraps README blocks that are doctest test cases: at namespace scope, doctest included.
#include <troupe/troupe.hpp>

#include <doctest/doctest.h>

#include <memory>
#include <vector>

// @README_BLOCK@
