// Messages on their way: a pooled envelope around a plain C++ value.
#pragma once

#include <troupe/error.hpp>
#include <troupe/message_bytes.hpp>
#include <troupe/runtime/actor_core.hpp>
#include <troupe/runtime/pool.hpp>
#include <troupe/type_name.hpp>

#include <chrono>
#include <cstdint>
#include <new>
#include <string_view>
#include <type_traits>
#include <utility>

namespace troupe {

// The reply of a request whose handler returns nothing.
struct Unit {};

struct Envelope;

// One per message type: its identity (the address) and how to dispose of an envelope of it.
// Aligned to 16 so an envelope can keep its kind and its urgent mark in the low bits of the pointer
// to it.
struct alignas(16) MessageType {
  std::string_view name;
  void (*destroy)(Envelope*) noexcept;
  // What an envelope of this type holds in memory: its block and what its value owns on the
  // heap (<troupe/message_bytes.hpp>). Asked only by a mailbox bounded in bytes.
  std::uint64_t (*weigh)(const Envelope&) noexcept;
};

enum class EnvelopeKind : std::uint8_t {
  message = 0,   // a one-way message
  request = 1,   // expects a response to reply().reply_to with reply().request_id
  response = 2,  // answers request reply().request_id; payload is the value, or an Error
  stop = 3,      // the system asks the actor to stop (shutdown)
  timeout = 4,   // the timeout of request reply().request_id expired
  signal = 5,    // a link, unlink, monitor, demonitor, exit or down signal (see signals.hpp):
                 // handled before the user messages queued ahead of it
  idle = 6,      // the actor's receive timeout may be due: a check only its own actor sends itself
                 // (Context::set_receive_timeout), never counted against a bounded mailbox
};

// Requests, responses and timeouts carry this just before their envelope. One-way messages,
// by far the most common, do without: their blocks are sizeof(ReplyHeader) smaller.
struct ReplyHeader {
  runtime::ActorCore* reply_to = nullptr;  // requests: holds a reference
  std::uint64_t request_id = 0;
  // Requests: how long the requester waits for the response (max: for ever). A node forgets a
  // request to a remote actor some time after that, answered or not. A duration, not a deadline:
  // a local request then reads no clock; the node turns it into a deadline when it sends it.
  std::chrono::steady_clock::duration timeout = std::chrono::steady_clock::duration::max();
};

// The deadline of a request sent now with `timeout` (real time), saturating: a year or more is
// "never".
inline std::chrono::steady_clock::time_point request_deadline(std::chrono::steady_clock::duration timeout) noexcept {
  if (timeout >= std::chrono::hours(24 * 365)) return std::chrono::steady_clock::time_point::max();
  return std::chrono::steady_clock::now() + timeout;
}

constexpr bool has_reply_header(EnvelopeKind kind) noexcept {
  return kind == EnvelopeKind::request || kind == EnvelopeKind::response || kind == EnvelopeKind::timeout;
}

struct Envelope : runtime::MailboxLink {
  const MessageType* type() const noexcept {
    return reinterpret_cast<const MessageType*>(type_and_kind & ~std::uintptr_t{15});
  }
  EnvelopeKind kind() const noexcept { return static_cast<EnvelopeKind>(type_and_kind & 7); }
  bool is(const MessageType& t) const noexcept { return type() == &t; }
  // A user message or request sent urgent (DynamicHandle::send_urgent): its actor handles it before
  // the messages queued ahead of it, as it does signals.
  bool urgent() const noexcept { return (type_and_kind & kUrgentBit) != 0; }
  void mark_urgent() noexcept { type_and_kind |= kUrgentBit; }

  // Requests, responses and timeouts only (has_reply_header(kind())).
  ReplyHeader& reply() noexcept {
    return *reinterpret_cast<ReplyHeader*>(reinterpret_cast<char*>(this) - sizeof(ReplyHeader));
  }
  // Any envelope: the requester to answer, or nullptr.
  runtime::ActorCore* reply_to() noexcept { return has_reply_header(kind()) ? reply().reply_to : nullptr; }

  static constexpr std::uintptr_t kUrgentBit = 8;
  std::uintptr_t type_and_kind = 0;  // const MessageType* | urgent mark | EnvelopeKind
};

template <class T>
struct Message final : Envelope {
  template <class... A>
  explicit Message(A&&... args) : value(std::forward<A>(args)...) {}
  T value;
};

namespace detail {
// Where the envelope starts in its block: after the reply header, keeping the message aligned.
// sizeof(ReplyHeader) rounded up to a multiple of the message's alignment.
template <class T>
constexpr std::size_t reply_offset = (sizeof(ReplyHeader) + alignof(Message<T>) - 1) / alignof(Message<T>) *
                                     alignof(Message<T>);
template <class T>
constexpr std::size_t block_bytes(EnvelopeKind kind) noexcept {
  return sizeof(Message<T>) + (has_reply_header(kind) ? reply_offset<T> : 0);
}
}  // namespace detail

template <class T>
void destroy_message(Envelope* envelope) noexcept {
  const EnvelopeKind kind = envelope->kind();
  auto* message = static_cast<Message<T>*>(envelope);
  message->~Message<T>();
  char* block = reinterpret_cast<char*>(message) - (has_reply_header(kind) ? detail::reply_offset<T> : 0);
  runtime::pool_free(block, detail::block_bytes<T>(kind));
}

template <class T>
std::uint64_t weigh_message(const Envelope& envelope) noexcept {
  return detail::block_bytes<T>(envelope.kind()) + heap_bytes(static_cast<const Message<T>&>(envelope).value);
}

template <class T>
inline constexpr MessageType message_type{detail::type_name<T>(), &destroy_message<T>, &weigh_message<T>};

template <class T, class... A>
Message<T>* make_envelope(EnvelopeKind kind, A&&... args) {
  static_assert(alignof(Message<T>) <= 64, "troupe: message types aligned beyond 64 bytes are not supported");
  const std::size_t bytes = detail::block_bytes<T>(kind);
  char* block = static_cast<char*>(runtime::pool_allocate(bytes));
  char* at = block + (has_reply_header(kind) ? detail::reply_offset<T> : 0);
  Message<T>* message;
  try {
    message = new (at) Message<T>(std::forward<A>(args)...);
  } catch (...) {
    runtime::pool_free(block, bytes);
    throw;
  }
  if (has_reply_header(kind)) new (at - sizeof(ReplyHeader)) ReplyHeader{};
  message->type_and_kind = reinterpret_cast<std::uintptr_t>(&message_type<T>) | static_cast<std::uintptr_t>(kind);
  return message;
}

// Releases the reply target the envelope holds, then destroys payload and envelope.
inline void dispose(Envelope* envelope) noexcept {
  if (runtime::ActorCore* requester = envelope->reply_to()) requester->release();
  envelope->type()->destroy(envelope);
}

template <class T>
T& payload(Envelope& envelope) noexcept {
  return static_cast<Message<T>&>(envelope).value;
}

namespace detail {

SendResult deliver_bounded(runtime::ActorCore* target, Envelope* env) noexcept;
// `target` is overloaded (runtime::ActorCore::overloaded): mutes the sending actor, if any.
void mute_sender_on(runtime::ActorCore* target) noexcept;

// Puts a user message or request into `target`'s mailbox: every one-way message and request
// goes through here, so a bounded mailbox counts them all, and a sender to an overloaded actor is
// muted. Takes the envelope in every case.
inline SendResult deliver(runtime::ActorCore* target, Envelope* env) noexcept {
  if (target->mailbox_limit() == nullptr) [[likely]] {
    target->enqueue(env);
    if (target->overloaded()) [[unlikely]]
      mute_sender_on(target);
    return {};
  }
  return deliver_bounded(target, env);
}

// deliver(), for a message its actor handles before the ones queued ahead of it: marked, then, once
// in the mailbox, flagged as a signal is (the owner takes what its mailbox holds at its next turn,
// the urgent first). A remote actor carries the mark to its node.
inline SendResult deliver_urgent(runtime::ActorCore* target, Envelope* env) noexcept {
  env->mark_urgent();
  const SendResult result = deliver(target, env);
  if (result.ok()) target->flag_signal();  // after the push: see flag_signal()
  return result;
}

// deliver() or deliver_urgent(), as `env` is marked: for the paths that pass on an envelope, or
// send a request, that may have been marked urgent before (one-way sends choose at the call).
inline SendResult deliver_as_marked(runtime::ActorCore* target, Envelope* env) noexcept {
  return env->urgent() ? deliver_urgent(target, env) : deliver(target, env);
}

// Sends `value` as the response to request `request_id`; nothing when there is no requester.
// If the response cannot even be allocated, the requester's timeout reports it.
template <class V>
void send_response(runtime::ActorCore* reply_to, std::uint64_t request_id, V&& value) noexcept {
  if (reply_to == nullptr) return;
  try {
    auto* response = make_envelope<std::decay_t<V>>(EnvelopeKind::response, std::forward<V>(value));
    response->reply().request_id = request_id;
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
    return Error{Errc::unexpected_reply, std::string(response.type()->name)};
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
