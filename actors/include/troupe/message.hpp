// Messages on their way: a pooled envelope around a plain C++ value.
#pragma once

#include <troupe/error.hpp>
#include <troupe/runtime/actor_core.hpp>
#include <troupe/runtime/pool.hpp>

#include <cstdint>
#include <new>
#include <string_view>
#include <type_traits>
#include <utility>

namespace troupe {

// The reply of a request whose handler returns nothing.
struct Unit {};

namespace detail {

template <class T>
constexpr std::string_view type_name() noexcept {
  std::string_view f = __PRETTY_FUNCTION__;  // "... type_name() [with T = X; ...]"
  const auto start = f.find("T = ") + 4;
  const auto end = f.find_first_of(";]", start);
  return f.substr(start, end - start);
}

}  // namespace detail

struct Envelope;

// One per message type: its identity (the address) and how to dispose of an envelope of it.
struct MessageType {
  std::string_view name;
  void (*destroy)(Envelope*) noexcept;
};

enum class EnvelopeKind : std::uint8_t {
  message,   // a one-way message
  request,   // expects a response to `reply_to` with `request_id`
  response,  // answers request `request_id`; payload is the value, or an Error
  stop,      // the system asks the actor to stop (shutdown)
  timeout,   // the timeout of request `request_id` expired
};

struct Envelope : runtime::MailboxLink {
  const MessageType* type = nullptr;
  runtime::ActorCore* reply_to = nullptr;  // requests: holds a reference
  std::uint64_t request_id = 0;
  EnvelopeKind kind = EnvelopeKind::message;

  bool is(const MessageType& t) const noexcept { return type == &t; }
};

template <class T>
struct Message final : Envelope {
  template <class... A>
  explicit Message(A&&... args) : value(std::forward<A>(args)...) {}
  T value;
};

template <class T>
void destroy_message(Envelope* envelope) noexcept {
  auto* message = static_cast<Message<T>*>(envelope);
  message->~Message<T>();
  runtime::pool_free(message, sizeof(Message<T>));
}

template <class T>
inline constexpr MessageType message_type{detail::type_name<T>(), &destroy_message<T>};

template <class T, class... A>
Message<T>* make_envelope(EnvelopeKind kind, A&&... args) {
  static_assert(alignof(Message<T>) <= 64, "troupe: message types aligned beyond 64 bytes are not supported");
  void* block = runtime::pool_allocate(sizeof(Message<T>));
  Message<T>* message;
  try {
    message = new (block) Message<T>(std::forward<A>(args)...);
  } catch (...) {
    runtime::pool_free(block, sizeof(Message<T>));
    throw;
  }
  message->type = &message_type<T>;
  message->kind = kind;
  return message;
}

// Releases the reply target the envelope holds, then destroys payload and envelope.
inline void dispose(Envelope* envelope) noexcept {
  if (envelope->reply_to != nullptr) envelope->reply_to->release();
  envelope->type->destroy(envelope);
}

template <class T>
T& payload(Envelope& envelope) noexcept {
  return static_cast<Message<T>&>(envelope).value;
}

namespace detail {

// Sends `value` as the response to request `request_id`; nothing when there is no requester.
// If the response cannot even be allocated, the requester's timeout reports it.
template <class V>
void send_response(runtime::ActorCore* reply_to, std::uint64_t request_id, V&& value) noexcept {
  if (reply_to == nullptr) return;
  try {
    auto* response = make_envelope<std::decay_t<V>>(EnvelopeKind::response, std::forward<V>(value));
    response->request_id = request_id;
    reply_to->enqueue(response);
  } catch (...) {
  }
}

inline void send_response_error(runtime::ActorCore* reply_to, std::uint64_t request_id, Error error) noexcept {
  send_response(reply_to, request_id, std::move(error));
}

// Turns a response envelope into the result the requester expects.
template <class R>
Result<R> read_response(Envelope& response) {
  if (response.is(message_type<Error>)) return std::move(payload<Error>(response));
  using Stored = std::conditional_t<std::is_void_v<R>, Unit, R>;
  if (!response.is(message_type<Stored>)) {
    return Error{Errc::unexpected_reply, std::string(response.type->name)};
  }
  if constexpr (std::is_void_v<R>) {
    return Result<void>{};
  } else {
    return std::move(payload<R>(response));
  }
}

}  // namespace detail

// A message type may declare what a request of it answers with: `using reply_type = int;`.
template <class M, class = void>
struct declared_reply {
  using type = void;
};
template <class M>
struct declared_reply<M, std::void_t<typename M::reply_type>> {
  using type = typename M::reply_type;
};

}  // namespace troupe
