// doctest shows a troupe::Result in a failed check as "ok" or as its error's message, not as
// "{?}": a REQUIRE(result) that fails says why (a cluster test's flake under TSan once showed only
// `REQUIRE( {?} )`).
#pragma once

#include <troupe/error.hpp>

#include <doctest/doctest.h>

#include <string>

namespace doctest {

template <class T>
struct StringMaker<troupe::Result<T>> {
  static String convert(const troupe::Result<T>& result) {
    if (result) return "ok";
    return String(("error: " + result.error().message()).c_str());
  }
};

}  // namespace doctest
