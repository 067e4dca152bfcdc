// A type's readable name, for error texts and dead letters: "std::string", not
// "std::__cxx11::basic_string<char>". Made once per type, at compile time, from the compiler's
// spelling in __PRETTY_FUNCTION__: inline namespaces (std::__cxx11, std::__1) dropped, default
// allocators, char traits and deleters hidden, "> >" closed up, and std::basic_string<char> and
// std::basic_string_view<char> named by their aliases.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace troupe::detail {

template <class T>
constexpr const char* type_signature() noexcept {
  return __PRETTY_FUNCTION__;  // "... type_signature() [with T = X]" (g++), "[T = X]" (clang)
}

constexpr std::string_view raw_type_name(std::string_view signature) noexcept {
  const std::size_t start = signature.find("T = ") + 4;
  return signature.substr(start, signature.rfind(']') - start);
}

constexpr bool text_at(const char* text, std::size_t size, std::size_t at, std::string_view what) noexcept {
  if (size - at < what.size()) return false;
  for (std::size_t i = 0; i < what.size(); ++i) {
    if (text[at + i] != what[i]) return false;
  }
  return true;
}

// Each pass rewrites text[0, size) in place, shortening it, and returns its new size.
constexpr std::size_t replace_all(char* text, std::size_t size, std::string_view from, std::string_view to) noexcept {
  std::size_t in = 0;
  std::size_t out = 0;
  while (in < size) {
    if (text_at(text, size, in, from)) {
      for (const char c : to) text[out++] = c;
      in += from.size();
    } else {
      text[out++] = text[in++];
    }
  }
  return out;
}

// Drops `head` (", std::allocator<"), its argument and its '>', where it is the last template
// argument (only spaces before the next '>'): a default argument.
constexpr std::size_t drop_last_argument(char* text, std::size_t size, std::string_view head) noexcept {
  std::size_t in = 0;
  std::size_t out = 0;
  while (in < size) {
    if (text_at(text, size, in, head)) {
      std::size_t close = in + head.size();
      for (int depth = 1; close < size; ++close) {
        if (text[close] == '<') ++depth;
        if (text[close] == '>' && --depth == 0) break;
      }
      std::size_t next = close + 1;
      while (next < size && text[next] == ' ') ++next;
      if (close < size && next < size && text[next] == '>') {
        in = close + 1;
        continue;
      }
    }
    text[out++] = text[in++];
  }
  return out;
}

constexpr std::size_t readable_type_name(char* text, std::size_t size) noexcept {
  size = replace_all(text, size, "std::__cxx11::", "std::");
  size = replace_all(text, size, "std::__1::", "std::");
  size = drop_last_argument(text, size, ", std::allocator<");
  size = drop_last_argument(text, size, ", std::char_traits<");
  size = drop_last_argument(text, size, ", std::default_delete<");
  size = replace_all(text, size, " >", ">");
  size = replace_all(text, size, "std::basic_string<char>", "std::string");
  size = replace_all(text, size, "std::basic_string_view<char>", "std::string_view");
  return size;
}

template <class T>
struct TypeName {
  static constexpr std::string_view raw = raw_type_name(type_signature<T>());
  struct Text {
    std::array<char, raw.size()> chars{};
    std::size_t size = 0;
  };
  static constexpr Text text = [] {
    Text t;
    for (std::size_t i = 0; i < raw.size(); ++i) t.chars[i] = raw[i];
    t.size = readable_type_name(t.chars.data(), raw.size());
    return t;
  }();
};

// T's readable name; the characters are a constant, so the view is valid for ever.
template <class T>
constexpr std::string_view type_name() noexcept {
  return {TypeName<T>::text.chars.data(), TypeName<T>::text.size};
}

}  // namespace troupe::detail
