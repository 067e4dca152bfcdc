// Handles: cheap, copyable references to an actor, local now, remote later (a remote actor stands
// behind the same handle, as an ActorCore whose executor is its node connection).
//
// DynamicHandle sends anything. Handle<R(M)...> lists what its actor handles: it sends only those
// message types (checked at compile time) and knows each request's reply type.
#pragma once

#include <troupe/message.hpp>
#include <troupe/runtime/actor_core.hpp>

#include <concepts>
#include <cstddef>
#include <functional>
#include <type_traits>
#include <utility>

namespace troupe {

class DynamicHandle {
 public:
  DynamicHandle() noexcept = default;
  DynamicHandle(const DynamicHandle& other) noexcept : core_(other.core_) {
    if (core_ != nullptr) core_->add_ref();
  }
  DynamicHandle(DynamicHandle&& other) noexcept : core_(std::exchange(other.core_, nullptr)) {}
  DynamicHandle& operator=(DynamicHandle other) noexcept {
    std::swap(core_, other.core_);
    return *this;
  }
  ~DynamicHandle() {
    if (core_ != nullptr) core_->release();
  }

  // Moves (or copies) the message into the actor's mailbox. A message to a stopped actor
  // becomes a dead letter. Never blocks, except when a thread of the caller's own (not a worker,
  // not an actor) sends to a full bounded mailbox with the backpressure policy: it waits for room.
  // Fails only for a full bounded mailbox with the drop or fail policy (see SpawnOptions).
  // Precondition: the handle is valid.
  template <class M>
  SendResult send(M&& message) const {
    return detail::deliver(core_, make_envelope<std::decay_t<M>>(EnvelopeKind::message, std::forward<M>(message)));
  }
  // send(), but the actor handles the message before the messages queued ahead of it (a cancel
  // that must not wait behind the work it cancels), as it does links' exits and monitors' Downs.
  // Urgent messages keep their order among themselves. Only the order changes: a bounded mailbox
  // counts the message and may refuse it as any other; a thread's ScopedActor takes its messages
  // in order.
  template <class M>
  SendResult send_urgent(M&& message) const {
    return detail::deliver_urgent(core_,
                                  make_envelope<std::decay_t<M>>(EnvelopeKind::message, std::forward<M>(message)));
  }

  bool valid() const noexcept { return core_ != nullptr; }
  explicit operator bool() const noexcept { return valid(); }

  runtime::ActorCore* core() const noexcept { return core_; }
  // Adopts a reference the caller owns.
  static DynamicHandle adopt(runtime::ActorCore* core) noexcept {
    DynamicHandle h;
    h.core_ = core;
    return h;
  }
  // Shares an existing actor (takes a new reference).
  static DynamicHandle share(runtime::ActorCore* core) noexcept {
    if (core != nullptr) core->add_ref();
    return adopt(core);
  }

  friend bool operator==(const DynamicHandle& a, const DynamicHandle& b) noexcept { return a.core_ == b.core_; }
  friend bool operator<(const DynamicHandle& a, const DynamicHandle& b) noexcept {
    return std::less<>{}(a.core_, b.core_);
  }

 private:
  runtime::ActorCore* core_ = nullptr;
};

namespace detail {

template <class Sig>
struct signature;
template <class R, class M>
struct signature<R(M)> {
  using message = M;
  using reply = R;
};

// The reply type for message M among signatures Sigs, or `void` with found == false.
template <class M, class... Sigs>
struct lookup_reply {
  static constexpr bool found = false;
  using type = void;
};
template <class M, class Sig, class... Rest>
struct lookup_reply<M, Sig, Rest...> {
  static constexpr bool here = std::is_same_v<M, typename signature<Sig>::message>;
  static constexpr bool found = here || lookup_reply<M, Rest...>::found;
  using type = std::conditional_t<here, typename signature<Sig>::reply, typename lookup_reply<M, Rest...>::type>;
};

}  // namespace detail

template <class... Sigs>
class Handle : public DynamicHandle {
 public:
  Handle() noexcept = default;

  template <class M>
  static constexpr bool accepts = detail::lookup_reply<std::decay_t<M>, Sigs...>::found;
  template <class M>
  using reply_type = typename detail::lookup_reply<std::decay_t<M>, Sigs...>::type;

  template <class M>
  SendResult send(M&& message) const {
    static_assert(accepts<M>,
                  "troupe: this actor has no handler for this message type, so its typed handle "
                  "refuses it. Add a handler to the actor's behavior, or send through a DynamicHandle.");
    return DynamicHandle::send(std::forward<M>(message));
  }
  template <class M>
  SendResult send_urgent(M&& message) const {
    static_assert(accepts<M>,
                  "troupe: this actor has no handler for this message type, so its typed handle "
                  "refuses it. Add a handler to the actor's behavior, or send through a DynamicHandle.");
    return DynamicHandle::send_urgent(std::forward<M>(message));
  }

  // Internal: wraps a reference the caller owns.
  static Handle adopt(runtime::ActorCore* core) noexcept {
    Handle h;
    static_cast<DynamicHandle&>(h) = DynamicHandle::adopt(core);
    return h;
  }
};

namespace detail {
// The typed handle H is (or derives from), or DynamicHandle: overload resolution prefers the
// most derived base, so a class derived from Handle<...> keeps its signatures.
template <class... Sigs>
Handle<Sigs...> typed_base(const Handle<Sigs...>&);
DynamicHandle typed_base(const DynamicHandle&);

// The typed handle H (a Handle<...> or a class derived from one) for an actor someone already
// checked handles H's message types (a typed lookup or spawn did): no check here.
template <class H>
H assume_typed(DynamicHandle actor) noexcept {
  H typed;
  static_cast<DynamicHandle&>(typed) = std::move(actor);
  return typed;
}

}  // namespace detail

// A typed handle: Handle<Sigs...>, or a class derived from one.
template <class H>
concept TypedHandle = !std::is_same_v<decltype(detail::typed_base(std::declval<const H&>())), DynamicHandle>;

namespace detail {
template <class H, class M>
struct reply_through {
  using type = typename declared_reply<std::decay_t<M>>::type;
};
template <class... Sigs, class M>
struct reply_through<Handle<Sigs...>, M> {
  static_assert(Handle<Sigs...>::template accepts<M>,
                "troupe: this actor has no handler for this message type, so a request of it "
                "through its typed handle cannot be answered.");
  using type = typename Handle<Sigs...>::template reply_type<M>;
};
}  // namespace detail

// The reply type a request with message M gets through handle H (a typed handle, a class
// derived from one, or a DynamicHandle, where M::reply_type names it).
template <class H, class M>
struct reply_of {
  using type = typename detail::reply_through<decltype(detail::typed_base(std::declval<const H&>())), M>::type;
};

namespace detail {
// request<R>(h, m): R names the reply type where the handle cannot (a DynamicHandle). Through a
// typed handle the reply type is known, and an R that says otherwise is a mistake caught here
// rather than an unexpected_reply at run time.
template <class R, class Base, class M>
struct named_reply {
  using type = std::conditional_t<std::is_void_v<R>, typename reply_through<Base, M>::type, R>;
};
template <class R, class... Sigs, class M>
struct named_reply<R, Handle<Sigs...>, M> {
  using type = typename reply_through<Handle<Sigs...>, M>::type;
  static_assert(std::is_void_v<R> || std::is_same_v<R, type>,
                "troupe: request<R>(handle, message) names a reply type R that contradicts the typed "
                "handle, whose actor answers this message with another type: drop <R> (a typed handle "
                "knows the reply type) or name that type.");
};
}  // namespace detail

// The reply type of request<R>(target, message) (see detail::named_reply).
template <class R, class H, class M>
using request_reply_t = typename detail::named_reply<R, decltype(detail::typed_base(std::declval<const H&>())), M>::type;

}  // namespace troupe

template <>
struct std::hash<troupe::DynamicHandle> {
  std::size_t operator()(const troupe::DynamicHandle& h) const noexcept {
    return std::hash<const void*>{}(h.core());
  }
};
