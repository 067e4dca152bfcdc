// Expected failures come back as values: an Error with a documented code, inside a Result<T>.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
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
  interface_mismatch,  // a typed lookup or spawn: the actor lacks a handler for a message type the
                       // handle names; Error::what names the missing type(s)
  // New codes go above this line, and kLastErrc names the last one. A node decoding an Error from
  // the wire reads a code past its own kLastErrc (or 0) as unknown_code, so a newer node's codes
  // reach an older one as that, and the connection stays up.
};
inline constexpr Errc kLastErrc = Errc::interface_mismatch;

std::string_view to_string(Errc code) noexcept;

struct Error {
  Errc code;
  std::string what;  // detail, may be empty

  friend bool operator==(const Error& a, const Error& b) noexcept { return a.code == b.code; }
  std::string message() const;  // "timeout", or "actor_failed: <what>"
};

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
