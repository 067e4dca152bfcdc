// Pools: one handle in front of N routees of one actor type, after Akka's pool routers and
// CAF's actor pools.
//
//   auto pool = troupe::spawn_pool<Worker>(system, {.size = 4, .routing = troupe::Routing::round_robin});
//   auto done = co_await self.request(pool, Job{7});   // answered by the routee that took it
//   co_await troupe::resize_pool(self, pool, 8);
//
// The pool is a router actor. It owns a supervisor (one_for_one, the PoolSpec's restart
// intensity) whose children are the routees, and forwards every message it gets to one of them
// (or, broadcasting, to all), chosen by the PoolSpec's Routing:
//   round_robin       the routees in turn.
//   random            uniformly at random (seeded by PoolSpec::seed: a fixed seed, a fixed order).
//   smallest_mailbox  the routee with the fewest user messages queued and not yet handled (the
//                     message its handler runs now not counted), exactly, from every sender: the
//                     routees get a counting mailbox (a bounded one that is never full). Ties go
//                     to the first such routee after the one chosen last.
//   consistent_hash   by PoolSpec::key (see hash_key): equal keys go to the same routee, and a
//                     resize moves few keys (jump consistent hashing over the routees in order of
//                     age: growing from n to n+1 moves 1/(n+1) of the keys, all to the new one;
//                     shrinking moves only the keys of the routees removed). A message of a type
//                     the key does not cover is a dead letter (a request gets unexpected_message).
//   broadcast         every routee gets a copy (messages must then be copyable). A request cannot
//                     be broadcast: it is answered at once with Errc::unexpected_message.
//
// Requests: the router forwards the request itself, reply address and timeout intact, so the
// routee that takes it answers the requester directly. The cost is one extra actor hop per
// message (one mailbox push and one turn of the router; no copy, except for broadcast), and the
// router does nothing else per message, so it is rarely the bottleneck; one router is still one
// actor, so a pool cannot route faster than one thread can forward.
//
// Failures: a routee that stops abnormally is restarted by the pool's supervisor (max_restarts
// within period); meanwhile the router skips it (for consistent_hash, its keys go to another
// routee, chosen by hashing again, until it is back). What was in the dead routee's mailbox is
// lost, as for any actor: the messages are dead letters, and requests get Errc::dead_actor, so a
// client that retries failed requests gets every job done. If the supervisor gives up (too many
// restarts), it stops every routee and exits with its error; the router, linked to it, stops
// with that reason too, and requests to the pool get dead_actor from then on. A routee that stops
// normally (or with shutdown) on its own is not restarted: the pool shrinks by one.
//
// Until the pool's routees have all started (after spawn_pool, and after a resize that grows
// it), the router holds what it gets and forwards it, in order, once they have: the first
// messages are spread over all of them. With no routee running at all (every one restarting),
// messages wait, in order, for the first one back (a request's own timeout still runs), so
// clients that retry do not spin. A pool resized to 0 refuses at once: a dead letter, and
// dead_actor for a request; so does a stopped pool, and what was held when it stopped.
//
// Resizing (resize_pool): growing starts new routees; shrinking removes the youngest ones from
// routing at once and stops each gracefully: it handles the messages already in its mailbox,
// then stops. The reply comes once the new routees have started and the removed ones stopped.
#pragma once

#include <troupe/context.hpp>
#include <troupe/handle.hpp>
#include <troupe/message.hpp>
#include <troupe/spawn.hpp>
#include <troupe/supervisor.hpp>
#include <troupe/system.hpp>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace troupe {

enum class Routing : std::uint8_t { round_robin, random, smallest_mailbox, consistent_hash, broadcast };

// The key a message is routed by under consistent_hash; nothing for a type the key does not cover.
using HashKey = std::function<std::optional<std::uint64_t>(Envelope&)>;

namespace detail {
template <class F>
struct key_arg : key_arg<decltype(&F::operator())> {};
template <class C, class R, class M>
struct key_arg<R (C::*)(M) const> {
  using type = std::decay_t<M>;
};
template <class C, class R, class M>
struct key_arg<R (C::*)(M)> {
  using type = std::decay_t<M>;
};
template <class R, class M>
struct key_arg<R (*)(M)> {
  using type = std::decay_t<M>;
};

template <class F>
void try_key(const F& key, Envelope& env, std::optional<std::uint64_t>& out) {
  using M = typename key_arg<F>::type;
  if (out || !env.is(message_type<M>)) return;
  const auto& k = key(payload<M>(env));
  out = static_cast<std::uint64_t>(std::hash<std::decay_t<decltype(k)>>{}(k));
}
}  // namespace detail

// A consistent_hash key from one function per message type, each taking that message (by value
// or const reference) and returning anything std::hash hashes:
//   troupe::hash_key([](const Deposit& d) { return d.account; }, [](const Withdraw& w) { return w.account; })
template <class... F>
HashKey hash_key(F... keys) {
  return [keys...](Envelope& env) {
    std::optional<std::uint64_t> out;
    (detail::try_key(keys, env, out), ...);
    return out;
  };
}

struct PoolSpec {
  std::size_t size = 1;  // routees at the start
  Routing routing = Routing::round_robin;
  HashKey key{};           // consistent_hash: the key of each message
  std::uint64_t seed = 0;  // random: the seed of the router's generator
  // The supervisor's restart intensity: more than max_restarts restarts within period and the
  // pool fails (see above).
  std::size_t max_restarts = 3;
  Duration period = std::chrono::seconds(5);
  Shutdown shutdown{};  // how a routee is stopped when the pool stops
};

// What pool_info tells.
struct PoolInfo {
  std::size_t size = 0;                // routees, running or restarting
  std::size_t running = 0;             // of them, running now
  std::vector<DynamicHandle> routees;  // in routing order; empty while one restarts
  std::size_t restarts = 0;            // routees replaced after a failure, so far
  std::size_t retiring = 0;            // removed by a resize and not yet stopped
};

// The requests a pool's router answers itself (see resize_pool, pool_info, stop_pool).
struct ResizePool {
  using reply_type = void;
  std::size_t size;
};
struct GetPoolInfo {
  using reply_type = PoolInfo;
};
struct StopPool {  // replies, then the routees stop in order (as the supervisor stops children)
  using reply_type = void;
};

// A pool's handle: H, the routees' own handle type (messages and requests type-check as for one
// routee), plus the pool's own requests through the functions below.
template <class H>
class Pool : public H {
 public:
  Pool() noexcept = default;
  // Internal: wraps a reference the caller owns.
  static Pool adopt(runtime::ActorCore* core) noexcept {
    Pool p;
    static_cast<DynamicHandle&>(p) = DynamicHandle::adopt(core);
    return p;
  }
  // The router, for the pool's own requests (and for monitor, link, exit).
  const DynamicHandle& router() const noexcept { return *this; }
};

// The client API, for actors (`co_await resize_pool(self, pool, 8)`) and ScopedActors (blocks),
// as for the supervisor's (`Requester` is Context or ScopedActor).
template <class Requester, class H>
auto resize_pool(Requester& r, const Pool<H>& pool, std::size_t size, Duration timeout = default_request_timeout) {
  return r.request(pool.router(), ResizePool{size}, timeout);
}
template <class Requester, class H>
auto pool_info(Requester& r, const Pool<H>& pool, Duration timeout = default_request_timeout) {
  return r.request(pool.router(), GetPoolInfo{}, timeout);
}
template <class Requester, class H>
auto stop_pool(Requester& r, const Pool<H>& pool, Duration timeout = default_request_timeout) {
  return r.request(pool.router(), StopPool{}, timeout);
}

namespace detail {

// Grants the pool the System's private spawning.
struct PoolAccess {
  template <class Block, class Init>
  static runtime::ActorCore* launch(System& system, SpawnOptions options, ActorCell* link_to, Init&& init) {
    return system.template launch<Block>(options, link_to, std::forward<Init>(init));
  }
};

// The router tells a routee removed by a resize to stop, behind what its mailbox holds.
struct RetireRoutee {};

// A routee's state: the actor's own, plus the handling of RetireRoutee.
template <class Inner>
struct RouteeState {
  template <class... A>
  explicit RouteeState(A&&... args) : inner{std::forward<A>(args)...} {}
  RouteeState& behavior() noexcept { return *this; }
  // As Behavior::handles: the routee's own behavior answers (a typed lookup of a routee).
  static bool handles(const MessageType* type) noexcept {
    return std::remove_cvref_t<decltype(std::declval<Inner&>().behavior())>::handles(type);
  }
  void dispatch(Context& self, Envelope& env) {
    if (env.is(message_type<RetireRoutee>)) {
      self.quit(ExitReason::shutdown());
      return;
    }
    inner.behavior().dispatch(self, env);
  }
  Inner inner;
};

// How broadcast copies a message of one of the routees' types.
struct MessageOps {
  const MessageType* type;
  Envelope* (*copy)(Envelope&);  // nullptr: not copyable
};
template <class M>
Envelope* copy_message(Envelope& env) {
  return make_envelope<M>(EnvelopeKind::message, payload<M>(env));
}
template <class Sig>
MessageOps ops_of() {
  using M = typename signature<Sig>::message;
  if constexpr (std::is_copy_constructible_v<M>) {
    return {&message_type<M>, &copy_message<M>};
  } else {
    return {&message_type<M>, nullptr};
  }
}
template <class H>
struct handle_ops;
template <class... Sigs>
struct handle_ops<Handle<Sigs...>> {
  static std::vector<MessageOps> get() { return {ops_of<Sigs>()...}; }
};

// Spawns one routee linked to the supervisor, on its turn.
using SpawnRoutee = std::function<DynamicHandle(Context& supervisor, SpawnOptions options)>;

struct PoolInit {
  PoolSpec spec;
  SpawnRoutee spawn;
  std::vector<MessageOps> ops;
};

// Spawns the router (pool_router.cpp); it starts the supervisor and the routees on its first turn.
runtime::ActorCore* launch_pool(System& system, PoolInit init);

template <class H, class State, class Init, class Named, class Args>
auto spawn_pool_of(System& system, PoolSpec spec, Args args) {
  using Block = ActorBlock<RouteeState<State>, Init, Named>;
  SpawnRoutee spawn = [args = std::move(args)](Context& supervisor, SpawnOptions options) -> DynamicHandle {
    return std::apply(
        [&](const auto&... a) {
          return DynamicHandle::adopt(PoolAccess::launch<Block>(supervisor.system(), options,
                                                                &static_cast<ActorCell&>(supervisor), Init{a...}));
        },
        args);
  };
  return Pool<H>::adopt(launch_pool(system, PoolInit{std::move(spec), std::move(spawn), handle_ops<H>::get()}));
}

}  // namespace detail

// A pool of class actors, each built as spawn<Impl>(args...) would (the arguments are copied
// into every routee, so they must be copyable).
template <class Impl, class... A>
requires requires(Impl& impl) { impl.behavior(); }
auto spawn_pool(System& system, PoolSpec spec, A&&... args) {
  using H = typename detail::class_behavior_t<Impl>::handle_type;
  using Init = detail::ClassInit<std::decay_t<A>...>;
  return detail::spawn_pool_of<H, detail::ClassState<Impl>, Init, Impl>(
      system, std::move(spec),
      std::tuple<std::tuple<std::decay_t<A>...>>(std::tuple<std::decay_t<A>...>(std::forward<A>(args)...)));
}

// A pool of function actors, each built as spawn(init, args...) would.
template <class F, class... A>
requires std::invocable < std::decay_t<F>
&, Context&, std::decay_t<A>&&... > auto spawn_pool(System& system, PoolSpec spec, F&& init, A&&... args) {
  using Beh = std::invoke_result_t<std::decay_t<F>&, Context&, std::decay_t<A>&&...>;
  static_assert(is_behavior<Beh>::value, "troupe: an actor function must return troupe::behavior(...)");
  using H = typename Beh::handle_type;
  using Init = detail::FunctionInit<std::decay_t<F>, std::decay_t<A>...>;
  return detail::spawn_pool_of<H, detail::FunctionState<Beh>, Init, std::decay_t<F>>(
      system, std::move(spec),
      std::tuple<std::decay_t<F>, std::tuple<std::decay_t<A>...>>(
          std::forward<F>(init), std::tuple<std::decay_t<A>...>(std::forward<A>(args)...)));
}

}  // namespace troupe
