// Supervisors: actors that start other actors (their children), watch them through links, and
// restart them when they stop, after Erlang/OTP's supervisor.
//
//   auto sup = system.spawn_supervisor(
//       {.strategy = troupe::Strategy::one_for_one, .max_restarts = 3, .period = 5s},
//       {troupe::child("db", db_actor, config).registered_as("db"),
//        troupe::child<Cache>("cache", 1000),
//        troupe::supervisor_child("workers", {.strategy = troupe::Strategy::one_for_all}, workers)});
//
// Strategies, when a child stops and is to be restarted:
//   one_for_one    only that child is restarted.
//   one_for_all    the other running children are stopped (reverse start order), then all are
//                  started again (start order).
//   rest_for_one   the children started after it are stopped (reverse order), then it and they
//                  are started again (start order).
//
// Restart types (ChildSpec::restart):
//   permanent  always restarted, after a normal exit too.
//   transient  restarted only after an abnormal exit (not normal, not shutdown).
//   temporary  never restarted; its spec is removed when it stops.
//
// Restart intensity: at most `max_restarts` restarts within any `period` (default 1 in 5 s).
// One more, and the supervisor gives up: it stops all its children (reverse start order) and
// exits with ExitReason::error("reached max restart intensity"). That is escalation: the
// supervisor's parent (another supervisor, through the link) sees one of its children fail
// and applies its own strategy; at the root, the failure reaches whoever monitors it.
//
// Order guarantees:
// - Children start one after the other, in the order given (dynamic children after those).
//   Starting is spawning: each child builds its state on its own first turn, and a nested
//   supervisor starts its own children then, so they may start after its later siblings.
// - Children stop in reverse start order, one at a time: each gets exit(child, shutdown) and,
//   unless its Shutdown is infinity, a timer; if it has not stopped when the timer fires, it is
//   killed (ExitReason::kill cannot be trapped). Shutdown::brutal_kill kills at once. The next
//   child is stopped only once the previous one has stopped.
// - An exit signal with a reason other than normal from an actor that is not one of its
//   children (its parent, or anyone linked to it) makes the supervisor stop its children in
//   reverse order, then exit with that reason. Stopping a supervisor that way, or with
//   StopSupervisor, is orderly; System::shutdown() is not (every actor stops at once).
//
// Handles and names: a restarted child is a new actor with a new handle; handles to the old one
// now reach a stopped actor (dead letters). Give a child a registered name
// (ChildSpec::registered_as) and the supervisor registers every incarnation under it as it
// starts; clients look it up with System::whereis(name) when they need it, and after a restart
// the name reaches the new one.
//
// The supervisor traps exits and never blocks: stopping children, waiting for them and their
// timeouts are messages and timers. Start functions run on the supervisor's turn, so they must
// be quick: spawn and return (the child builds its state on its own first turn).
#pragma once

#include <troupe/context.hpp>
#include <troupe/error.hpp>
#include <troupe/exit_reason.hpp>
#include <troupe/handle.hpp>
#include <troupe/system.hpp>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace troupe {

enum class Strategy : std::uint8_t { one_for_one, one_for_all, rest_for_one };

enum class Restart : std::uint8_t { permanent, transient, temporary };

// How a child is stopped: exit(child, shutdown), then a kill after `timeout`; or a kill at once;
// or exit(child, shutdown) and a wait as long as it takes (the default for supervisors, which
// stop their own children first).
struct Shutdown {
  enum class Kind : std::uint8_t { timeout, brutal_kill, infinity };
  Kind kind = Kind::timeout;
  Duration timeout = std::chrono::seconds(5);

  static Shutdown after(Duration timeout) { return {Kind::timeout, timeout}; }
  static Shutdown brutal_kill() { return {Kind::brutal_kill, {}}; }
  static Shutdown infinity() { return {Kind::infinity, {}}; }
};

// One child: how to start it and what to do when it stops.
struct ChildSpec {
  std::string id;  // unique among the supervisor's children
  // Runs on the supervisor's turn; spawns the child linked to the supervisor (self.spawn_link)
  // and returns its handle. Called again on every restart. Throwing (or returning an empty
  // handle) is a failed start. The helpers below (child, supervisor_child) make one.
  std::function<DynamicHandle(Context& supervisor)> start;
  Restart restart = Restart::permanent;
  Shutdown shutdown{};
  std::string name;         // registered for every incarnation when not empty
  bool supervisor = false;  // for which_children; set by supervisor_child

  ChildSpec with_restart(Restart r) && {
    restart = r;
    return std::move(*this);
  }
  ChildSpec with_shutdown(Shutdown s) && {
    shutdown = s;
    return std::move(*this);
  }
  ChildSpec registered_as(std::string n) && {
    name = std::move(n);
    return std::move(*this);
  }
};

// Passed to SupervisorSpec::on_restart for each child started again.
struct RestartEvent {
  std::string_view child;      // the id of the child restarted
  std::string_view failed;     // the id of the child whose exit caused it
  const ExitReason& reason;    // why `failed` stopped
  std::size_t restarts;        // restarts of `child` so far, this one included
  const DynamicHandle& handle; // the new incarnation
};

struct SupervisorSpec {
  Strategy strategy = Strategy::one_for_one;
  std::size_t max_restarts = 1;              // restarts allowed within `period`
  Duration period = std::chrono::seconds(5);
  // Called on the supervisor's turn after each restart; keep it short and non-blocking.
  std::function<void(const RestartEvent&)> on_restart{};
};

// What which_children tells about a child.
struct ChildInfo {
  std::string id;
  DynamicHandle handle;  // empty when not running
  bool alive = false;    // running, as far as the supervisor knows (its exit not yet handled)
  bool supervisor = false;
  std::size_t restarts = 0;
};

struct ChildCounts {
  std::size_t specs = 0;        // children known (running or not)
  std::size_t active = 0;       // running
  std::size_t supervisors = 0;  // specs of supervisors
  std::size_t workers = 0;      // specs of the rest
};

// The requests a supervisor answers (through SupervisorHandle). Errors: Errc::child_exists,
// Errc::no_child, Errc::child_running, Errc::actor_failed (a start that threw or failed).
struct StartChild {  // adds and starts a child; its handle
  using reply_type = DynamicHandle;
  ChildSpec spec;
};
struct TerminateChild {  // stops a child in order (as at shutdown); replies once it has stopped.
  using reply_type = void;  // The spec stays (temporary ones are removed).
  std::string id;
};
struct RestartChild {  // starts a stopped child again
  using reply_type = DynamicHandle;
  std::string id;
};
struct DeleteChild {  // removes a stopped child's spec
  using reply_type = void;
  std::string id;
};
struct WhichChildren {
  using reply_type = std::vector<ChildInfo>;
};
struct CountChildren {
  using reply_type = ChildCounts;
};
struct StopSupervisor {
  using reply_type = void;
};  // stops every child in order; replies, then the supervisor exits normally

// A supervisor's handle: sends only the requests above (each message also names its reply type,
// so a DynamicHandle to a supervisor works as well).
class SupervisorHandle
    : public Handle<DynamicHandle(StartChild), void(TerminateChild), DynamicHandle(RestartChild), void(DeleteChild),
                    std::vector<ChildInfo>(WhichChildren), ChildCounts(CountChildren), void(StopSupervisor)> {
 public:
  SupervisorHandle() noexcept = default;
  // Unchecked: `handle` must be a supervisor's (a nested one from which_children, say).
  static SupervisorHandle from(const DynamicHandle& handle) noexcept {
    if (handle.valid()) handle.core()->add_ref();
    return adopt(handle.core());
  }
  // Internal: wraps a reference the caller owns.
  static SupervisorHandle adopt(runtime::ActorCore* core) noexcept {
    SupervisorHandle h;
    static_cast<DynamicHandle&>(h) = DynamicHandle::adopt(core);
    return h;
  }
};

// The client API, for actors (`co_await start_child(self, sup, spec)`, a Result) and for a
// ScopedActor (`start_child(me, sup, spec)` blocks, a Result). `Requester` is Context or
// ScopedActor.
template <class Requester>
auto start_child(Requester& r, const SupervisorHandle& s, ChildSpec spec, Duration timeout = default_request_timeout) {
  return r.request(s, StartChild{std::move(spec)}, timeout);
}
template <class Requester>
auto terminate_child(Requester& r, const SupervisorHandle& s, std::string id,
                     Duration timeout = default_request_timeout) {
  return r.request(s, TerminateChild{std::move(id)}, timeout);
}
template <class Requester>
auto restart_child(Requester& r, const SupervisorHandle& s, std::string id,
                   Duration timeout = default_request_timeout) {
  return r.request(s, RestartChild{std::move(id)}, timeout);
}
template <class Requester>
auto delete_child(Requester& r, const SupervisorHandle& s, std::string id, Duration timeout = default_request_timeout) {
  return r.request(s, DeleteChild{std::move(id)}, timeout);
}
template <class Requester>
auto which_children(Requester& r, const SupervisorHandle& s, Duration timeout = default_request_timeout) {
  return r.request(s, WhichChildren{}, timeout);
}
template <class Requester>
auto count_children(Requester& r, const SupervisorHandle& s, Duration timeout = default_request_timeout) {
  return r.request(s, CountChildren{}, timeout);
}
template <class Requester>
auto stop_supervisor(Requester& r, const SupervisorHandle& s, Duration timeout = default_request_timeout) {
  return r.request(s, StopSupervisor{}, timeout);
}

// Child specs. The arguments are copied into the spec, and copied again into each incarnation,
// so they must be copyable.
// A function actor: init(self, args...) as for spawn.
template <class F, class... A>
  requires std::invocable<std::decay_t<F>&, Context&, std::decay_t<A>&...>
ChildSpec child(std::string id, F&& init, A&&... args) {
  ChildSpec spec;
  spec.id = std::move(id);
  spec.start = [init = std::decay_t<F>(std::forward<F>(init)),
                args = std::tuple<std::decay_t<A>...>(std::forward<A>(args)...)](Context& self) {
    return std::apply([&](const auto&... a) -> DynamicHandle { return self.spawn_link(init, a...); }, args);
  };
  return spec;
}

// A class actor: Impl(self, args...) or Impl(args...), as for spawn.
template <class Impl, class... A>
  requires requires(Impl& impl) { impl.behavior(); }
ChildSpec child(std::string id, A&&... args) {
  ChildSpec spec;
  spec.id = std::move(id);
  spec.start = [args = std::tuple<std::decay_t<A>...>(std::forward<A>(args)...)](Context& self) {
    return std::apply([&](const auto&... a) -> DynamicHandle { return self.template spawn_link<Impl>(a...); }, args);
  };
  return spec;
}

// A nested supervisor; its shutdown is infinity (it stops its own children first).
ChildSpec supervisor_child(std::string id, SupervisorSpec spec, std::vector<ChildSpec> children);

}  // namespace troupe
