// Expected failures come back as values: an Error with a documented code, inside a Result<T>.
#pragma once

#include <troupe/error_category.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace troupe {

// Every code a troupe call can fail with.
enum class Errc : std::uint8_t {
  timeout = 1,         // no response within the request's timeout
  dead_actor,          // the receiver had stopped, or stopped before it replied
  unexpected_message,  // the receiver has no handler for the message's type
  actor_failed,        // the receiver's handler threw; Error::what has the exception's text
  unexpected_reply,    // the reply's type is not the one the request expected
  system_shutdown,     // the system stopped before a response came
  name_taken,          // System::register_name: another actor holds the name; Error::what has it
  mailbox_full,        // the receiver's bounded mailbox was full (policy drop or fail)
  child_exists,        // a supervisor already has a child with that id
  no_child,            // a supervisor has no child with that id
  child_running,       // a supervisor's child is running (restart_child, delete_child)
  not_serializable,    // a message to a remote actor whose type is not declared for the wire
  no_such_name,        // a remote registry lookup found no actor under that name
  node_unreachable,    // a peer node could not be reached or refused the handshake
  node_down,           // the connection to the receiver's node was lost before a response came
  no_such_type,        // a remote spawn named a type the node has not registered as spawnable
  bad_arguments,       // a remote spawn's arguments are not of the type its factory takes
  unknown_code,        // a code from a newer node that this node does not know; Error::what says
                       // which number and carries the sender's detail
  message_too_large,   // a message to a remote actor larger than its node accepts (never sent)
  application,         // the application's own error: Error::category() and Error::value() say which
                       // (an enum registered with TROUPE_ERROR_CATEGORY, error_category.hpp)
  unknown_category,    // an application error from a node whose category this node has not
                       // registered; Error::what names the category and code and keeps the detail
  interface_mismatch,  // a typed lookup or spawn: the actor lacks a handler for a message type the
                       // handle names; Error::what names the missing type(s)
  // New codes go above this line, and kLastErrc names the last one. A node decoding an Error from
  // the wire reads a code past its own kLastErrc (or 0) as unknown_code, so a newer node's codes
  // reach an older one as that, and the connection stays up.
};
inline constexpr Errc kLastErrc = Errc::interface_mismatch;

std::string_view to_string(Errc code) noexcept;

// Cheap to pass by value: a code, a number and a pointer to a static category (packed beside the
// code, ahead of the text), and the detail.
class Error {
 public:
  Errc code{};

 private:
  std::int32_t value_ = 0;
  const ErrorCategory* category_ = nullptr;

 public:
  std::string what;  // detail, may be empty

  Error() noexcept = default;
  Error(Errc code, std::string what = {}) noexcept : code(code), what(std::move(what)) {}  // NOLINT: implicit
  // An application error: code is Errc::application.
  template <ErrorEnum E>
  Error(E value, std::string what = {})  // NOLINT: implicit by design, as from Errc
      : code(Errc::application),
        value_(static_cast<std::int32_t>(value)),
        category_(&troupe_error_category(value)),
        what(std::move(what)) {}
  // An application error of `category` by its number (a decoder's way, not knowing the enum).
  static Error in_category(const ErrorCategory& category, std::int32_t value, std::string what = {}) noexcept {
    Error e(Errc::application, std::move(what));
    e.value_ = value;
    e.category_ = &category;
    return e;
  }

  // An application error's category and number (null and 0 for troupe's own codes).
  const ErrorCategory* category() const noexcept { return category_; }
  std::int32_t value() const noexcept { return value_; }

  bool is(Errc c) const noexcept { return code == c; }
  template <ErrorEnum E>
  bool is(E e) const noexcept {
    return category_ == &troupe_error_category(e) && value_ == static_cast<std::int32_t>(e);
  }

  // Equal codes (and for application errors, the same category and number); `what` is not compared.
  friend bool operator==(const Error& a, const Error& b) noexcept {
    return a.code == b.code && a.category_ == b.category_ && a.value_ == b.value_;
  }
  friend bool operator==(const Error& a, Errc c) noexcept { return a.code == c; }
  template <ErrorEnum E>
  friend bool operator==(const Error& a, E e) noexcept {
    return a.is(e);
  }

  // "timeout", "actor_failed: <what>", or for an application error "bank.insufficient_funds: <what>"
  std::string message() const;
};
static_assert(sizeof(Error) == sizeof(std::string) + 16, "troupe: an application error adds no more than a word");

// Thrown only by Result::value() on a failed result (a programming error, not an expected one).
class BadResultAccess : public std::logic_error {
 public:
  explicit BadResultAccess(const Error& error)
      : std::logic_error("troupe: value() of a failed result: " + error.message()) {}
};

// A value or an Error. Check with ok() or `if (result)`, then use value() / *result.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT
  Result(Errc code, std::string what = {}) : state_(std::in_place_index<1>, Error{code, std::move(what)}) {}
  template <ErrorEnum E>
  requires(!std::is_same_v<E, T>) Result(E value, std::string what = {})
      : state_(std::in_place_index<1>, Error(value, std::move(what))) {}

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & {
    check();
    return std::get<0>(state_);
  }
  const T& value() const& {
    check();
    return std::get<0>(state_);
  }
  T&& value() && {
    check();
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  template <class U>
  T value_or(U&& fallback) const& {
    return ok() ? std::get<0>(state_) : static_cast<T>(std::forward<U>(fallback));
  }

  // Precondition: !ok().
  const Error& error() const& { return std::get<1>(state_); }
  Errc code() const { return ok() ? Errc{} : error().code; }

 private:
  void check() const {
    if (!ok()) throw BadResultAccess(std::get<1>(state_));
  }
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT
  Result(Errc code, std::string what = {}) : error_(Error{code, std::move(what)}) {}
  template <ErrorEnum E>
  Result(E value, std::string what = {}) : error_(Error(value, std::move(what))) {}

  bool ok() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  void value() const {
    if (error_) throw BadResultAccess(*error_);
  }
  const Error& error() const& { return *error_; }
  Errc code() const { return ok() ? Errc{} : error_->code; }

 private:
  std::optional<Error> error_;
};

// What a send did with its message. Not [[nodiscard]]: a send to an unbounded actor always
// succeeds, so most callers ignore it. Fails only with Errc::mailbox_full, for a receiver with a
// bounded mailbox whose policy is drop (the message also counts as a dead letter) or fail.
class SendResult {
 public:
  SendResult() noexcept = default;
  SendResult(Errc code) noexcept : code_(code) {}  // NOLINT: implicit by design

  bool ok() const noexcept { return code_ == Errc{}; }
  explicit operator bool() const noexcept { return ok(); }
  Errc code() const noexcept { return code_; }

 private:
  Errc code_{};
};

}  // namespace troupe
