// doctest shows a std::vector in a failed check as its elements, "{0, -1, 2}", not as "{?}": a
// failed comparison of two orders says what the order was (a flake under ThreadSanitizer once
// showed only `CHECK( {?} == {?} )`).
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace doctest {

template <class T, class A>
struct StringMaker<std::vector<T, A>> {
  static String convert(const std::vector<T, A>& v) {
    std::string text = "{";
    for (const auto& e : v) {
      if (text.size() > 1) text += ", ";
      text += toString(e).c_str();
    }
    return String((text + "}").c_str());
  }
};

}  // namespace doctest
