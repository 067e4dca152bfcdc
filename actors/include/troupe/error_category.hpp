// Application errors: an enum of the application's own error codes, registered once as a category,
// in the way of std::error_category and CAF's custom error enums:
//
//   namespace bank {
//   enum class BankError { insufficient_funds = 1, no_account };
//   TROUPE_ERROR_CATEGORY(BankError, "bank", insufficient_funds, no_account);
//   }
//
// After that a handler answers `troupe::Error(BankError::insufficient_funds, "balance 10")`, the
// requester tests `result.error() == BankError::insufficient_funds`, and the error's message reads
// "bank.insufficient_funds: balance 10". The names listed after the category's name are the codes'
// names in messages (a code not listed shows as its number). The category's name is what crosses
// nodes, with the code's number: a node that registered the same name decodes it back into the
// enum; one that did not gets Errc::unknown_category (docs/wire.md).
#pragma once

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace troupe {

// One per registered enum: a function-local static of the enum's troupe_error_category(), so its
// address is the category's identity (an Error holds a pointer to it).
class ErrorCategory {
 public:
  // `names`: the codes' names as the macro spells them, "a, b, c"; `codes`: their values, in order.
  ErrorCategory(std::string_view name, std::string_view names, std::vector<std::int32_t> codes);
  ErrorCategory(const ErrorCategory&) = delete;
  ErrorCategory& operator=(const ErrorCategory&) = delete;

  std::string_view name() const noexcept { return name_; }
  // The name of `code`, or "" when the registration did not list it.
  std::string_view code_name(std::int32_t code) const noexcept;

 private:
  std::string_view name_;
  std::vector<std::pair<std::int32_t, std::string_view>> names_;
};

// An enum registered with TROUPE_ERROR_CATEGORY (found by argument-dependent lookup).
template <class E>
concept ErrorEnum = std::is_enum_v<E> && requires(E e) {
  { troupe_error_category(e) } -> std::same_as<const ErrorCategory&>;
};

namespace detail {

// A category's name crosses the wire before a ':', so it keeps to letters, digits, '_', '-' and '.'.
constexpr bool valid_error_category_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64) return false;
  for (const char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

template <class E>
std::vector<std::int32_t> error_codes(std::initializer_list<E> codes) {
  static_assert(sizeof(E) <= sizeof(std::int32_t), "troupe: an error enum's values must fit in 32 bits");
  std::vector<std::int32_t> out;
  out.reserve(codes.size());
  for (const E code : codes) out.push_back(static_cast<std::int32_t>(code));
  return out;
}

// Makes the category known by name, for decoding errors from the wire. Idempotent for the same
// category; a second category under a name already taken is refused (false).
bool register_error_category(const ErrorCategory& category) noexcept;
const ErrorCategory* find_error_category(std::string_view name) noexcept;

}  // namespace detail
}  // namespace troupe

// Registers enum `Enum` (unqualified, at namespace scope in its own namespace) as the error
// category `name` (a string literal: letters, digits, '_', '-', '.'; unique in the program and the
// same on every node), with the names of its codes for messages (optional; enumerators of Enum).
#define TROUPE_ERROR_CATEGORY(Enum, name, ...)                                                \
  static_assert(::troupe::detail::valid_error_category_name(name),                            \
                "troupe: an error category's name is 1-64 letters, digits, '_', '-' or '.'"); \
  [[maybe_unused]] inline const ::troupe::ErrorCategory& troupe_error_category(Enum) {        \
    static const ::troupe::ErrorCategory category(name, #__VA_ARGS__, [] {                    \
      using enum Enum;                                                                        \
      return ::troupe::detail::error_codes<Enum>({__VA_ARGS__});                              \
    }());                                                                                     \
    return category;                                                                          \
  }                                                                                           \
  inline const bool troupe_error_category_registered_##Enum =                                 \
      ::troupe::detail::register_error_category(troupe_error_category(Enum{}))
