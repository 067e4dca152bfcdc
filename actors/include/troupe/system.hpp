// The actor system: the worker pool, timers, and every actor spawned in it.
#pragma once

#include <troupe/context.hpp>
#include <troupe/error.hpp>
#include <troupe/exit_reason.hpp>
#include <troupe/handle.hpp>
#include <troupe/metrics.hpp>
#include <troupe/runtime/log.hpp>
#include <troupe/runtime/mailbox_limit.hpp>
#include <troupe/runtime/scheduler.hpp>
#include <troupe/runtime/timer_service.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace troupe {

namespace runtime {
class Scheduler;
class Executor;
class RoomWaiter;
}  // namespace runtime

struct SupervisorSpec;
struct ChildSpec;
class SupervisorHandle;
struct AwaitName;
class Groups;

struct DeadLetter {
  enum class Reason : std::uint8_t {
    receiver_stopped,   // the receiver had stopped
    unhandled,          // the receiver has no handler for the type
    mailbox_full,       // the receiver's bounded mailbox was full (overflow policy drop)
    not_serializable,   // to a remote actor: the type is not declared for the wire (wire_type.hpp)
    message_too_large,  // to a remote actor: larger than its node accepts (NodeConfig::max_frame_bytes)
  };
  std::string_view message_type;
  std::string_view receiver;  // the receiver's actor type
  Reason reason;
  bool was_request;  // the requester got an Error reply
};

// A turn that did not end within Config::stuck_turn (see there).
using StuckTurn = runtime::StuckTurn;

// The system's events (Config::log; <troupe/runtime/log.hpp>, README.md "Logs").
using LogLevel = runtime::LogLevel;
using LogField = runtime::LogField;
using LogEvent = runtime::LogEvent;
using LogSink = runtime::LogSink;
using LogConfig = runtime::LogConfig;
using Logger = runtime::Logger;
using runtime::format_log_line;
using runtime::log_to_stderr;

struct ExitInfo {
  std::string_view actor;  // the actor's type
  const ExitReason& reason;
};

// Deterministic mode, for tests: no worker or timer threads. Every actor (blocking ones too) runs
// on the thread that drives the system (wait_idle, advance_time, a ScopedActor's receive or
// request, the destructor), one turn at a time, in an order picked by a generator seeded with
// `seed`; timers run on a virtual clock that moves only when nothing else can run. The same seed
// gives the same interleaving every time. See <troupe/testing.hpp>.
struct DeterministicMode {
  std::uint64_t seed = 0;
  // Messages per turn, replacing Config::budget: 1 switches actors as often as possible, so the
  // seeds explore the most interleavings.
  std::uint16_t budget = 1;
};

struct Config {
  unsigned workers = 0;        // worker threads; 0: one per hardware thread
  std::uint16_t budget = 100;  // messages an actor handles per turn before others get theirs
  // How long an idle worker, or a ScopedActor waiting for a message, keeps looking before it
  // sleeps (<troupe/runtime/idle_spin.hpp>): a message that comes meanwhile needs no wake-up,
  // which saves tens of microseconds per hop where idle CPUs halt. Zero: sleep at once.
  std::chrono::microseconds idle_spin{50};
  // Whether those spins stop where they do not pay (runtime::AdaptiveSpin: when nothing came in
  // several spins in a row, or when a yield shows the machine oversubscribed, a sleeper is woken
  // sooner than a spinner gets its CPU back). Off only to measure or test the spin itself.
  bool adaptive_spin = true;
  // The safety net for a handler that does not return (README, "Guarantees", "A turn that does
  // not end"): a worker inside one turn longer than this is stuck. The actor it woke and the actors
  // queued behind it go to other workers at once, and a compensating worker thread starts, so
  // that `workers` threads still run actors; it retires when the long turn ends. Checked by a
  // watchdog thread every quarter of it, which sleeps while every worker does. Zero: off.
  std::chrono::microseconds stuck_turn{10'000};
  // At most this many compensating threads at once; 0: as many as `workers`.
  unsigned max_compensating_workers = 0;
  // Called when a turn is found stuck (ended false, on the watchdog thread) and when it ends
  // (ended true, on its worker), naming the actor's type and how long the turn has taken. Keep
  // it short and non-blocking. Set or not, both are logged (stuck_turn, stuck_turn_ended).
  std::function<void(const StuckTurn&)> on_stuck_turn{};
  // Called for every dead letter, on the thread that found it; keep it short and non-blocking.
  std::function<void(const DeadLetter&)> on_dead_letter{};
  // Called for every actor that stops, on the thread it stopped on. Set or not, an exit with an
  // error reason is logged (actor_failed).
  std::function<void(const ExitInfo&)> on_actor_exit{};
  // Where the system's events go, and its nodes' (README.md, "Logs"): connections and refusals,
  // nodes down, actors that failed, supervisors' restarts and escalations, stuck turns. Unset
  // sink: one line per event on stderr (format_log_line). Events below `level` cost nothing.
  LogConfig log{};
  // Tracing (runtime/trace.hpp): when set, spans are recorded from construction on and written
  // here as Chrome trace event JSON (open it in Perfetto) when the system shuts down. The
  // environment variable TROUPE_TRACE=path does the same for a system that sets no path.
  // Recording is process-wide: spans of other systems running meanwhile land in the same file.
  std::string trace_path{};
  // Where to serve the system's metrics (/metrics, Prometheus text format) and its dashboard
  // (/), as "host:port" ("127.0.0.1:9464"; port 0 picks a free one: System::metrics_address()).
  // Empty: the environment variable TROUPE_METRICS=host:port, for the first system of the process
  // that sets none; unset, nothing is served. See System::serve_metrics.
  std::string metrics_address{};
  // Set: the system runs in deterministic mode (and `workers` and `budget` are ignored).
  std::optional<DeterministicMode> deterministic{};
};

// What a send to a full bounded mailbox does (see SpawnOptions::mailbox_capacity).
using Overflow = runtime::Overflow;

struct SpawnOptions {
  // Runs on a thread of its own, so its handlers may block (I/O, sleep) without stalling workers.
  bool blocking = false;
  // Messages per turn; 0 takes the system's budget.
  std::uint16_t budget = 0;
  // Bounded mailbox: at most this many user messages (one-way and requests) waiting to be
  // handled, stashed ones included; 0: unbounded. Signals, responses and timeouts never count
  // and are never refused. At capacity, `overflow` decides:
  //  - drop: the new message is dropped and counted as a dead letter (Reason::mailbox_full);
  //  - fail: send() returns Errc::mailbox_full and the message is discarded;
  //  - backpressure (the default): nothing is lost. An actor that sends to the full mailbox is
  //    muted when its current turn ends: it runs again once the receiver has drained to half
  //    its capacity (or stopped). A thread of the caller's own waits in send() until there is
  //    room. A worker thread outside any actor, or the timer thread, never waits: its message
  //    goes over capacity. An actor's second send in a row to one mailbox reserves room for a
  //    batch (32, or an eighth of a smaller capacity; bounded_send.cpp): the mailbox may hold
  //    one batch per worker more. Muted senders go one at a time, oldest first
  //    (MailboxLimit::release_one_at_a_time).
  // With drop and fail, a refused request's requester gets Errc::mailbox_full as its reply.
  std::uint32_t mailbox_capacity = 0;
  // Bounded in bytes: at most about this many bytes of user messages waiting (as counted above;
  // 0: no byte bound). A message weighs its block and what its value owns on the heap
  // (<troupe/message_bytes.hpp>: strings, containers, tuples, fields listed for the wire, or the
  // type's own troupe_heap_bytes). Full when either bound is reached, drained when both are at half; set
  // alone, it bounds the bytes only. A message is let in while the bytes waiting are under the
  // bound, so one larger than the bound still goes through, alone. `overflow` applies as above;
  // such a mailbox counts every message one by one (no batches reserved ahead).
  std::uint64_t mailbox_bytes = 0;
  Overflow overflow = Overflow::backpressure;
};

namespace detail {
struct PoolAccess;  // pool.hpp: spawns routees and the router
}  // namespace detail

class System {
 public:
  explicit System(Config config = {});
  // Waits until the system is idle (no actor has a message to handle, no one-shot timer is
  // pending), then shuts down: every remaining actor is stopped.
  ~System();
  System(const System&) = delete;
  System& operator=(const System&) = delete;

  // Function actor: `init(Context&, args...)` returns the behavior. It runs on a worker, as the
  // actor's first turn. Returns a typed handle (Handle<R(M)...>, one signature per handler).
  template <class F, class... A>
  requires std::invocable < std::decay_t<F>
  &, Context&, std::decay_t<A>&&... > auto spawn(F&& init, A&&... args) {
    return spawn_function(SpawnOptions{}, nullptr, std::forward<F>(init), std::forward<A>(args)...);
  }
  template <class F, class... A>
  requires std::invocable < std::decay_t<F>
  &, Context&, std::decay_t<A>&&... > auto spawn(SpawnOptions options, F&& init, A&&... args) {
    return spawn_function(options, nullptr, std::forward<F>(init), std::forward<A>(args)...);
  }

  // Class actor: constructed as Impl(Context&, args...) or Impl(args...) on the actor's first
  // turn; its `behavior()` member returns the behavior.
  template <class Impl, class... A>
  requires requires(Impl& impl) { impl.behavior(); }
  auto spawn(A&&... args) { return spawn_class<Impl>(SpawnOptions{}, nullptr, std::forward<A>(args)...); }
  template <class Impl, class... A>
  requires requires(Impl& impl) { impl.behavior(); }
  auto spawn(SpawnOptions options, A&&... args) {
    return spawn_class<Impl>(options, nullptr, std::forward<A>(args)...);
  }

  // A supervisor (see supervisor.hpp), not linked to anyone: it runs until stopped, or until it
  // gives up (restart intensity exceeded) and exits with an error.
  SupervisorHandle spawn_supervisor(SupervisorSpec spec, std::vector<ChildSpec> children);

  // `message` to `target` after `delay`, or every `period` until cancelled. Once shutdown() has
  // begun, the timer is born cancelled and sends nothing.
  template <class M>
  Timer send_after(const DynamicHandle& target, Duration delay, M&& message);
  template <class M>
  Timer send_every(const DynamicHandle& target, Duration period, M&& message);

  // Blocks until no actor has a message to handle and no one-shot timer is pending (or until
  // `timeout`); returns whether the system is idle. Deterministic mode: runs the actors on the
  // calling thread until then, moving the virtual clock to each timer in turn (the timeout is
  // virtual time too).
  bool wait_idle(Duration timeout = Duration::max());
  // Deterministic mode only (std::logic_error otherwise): runs the actors on the calling thread,
  // firing in order the timers that fall due within `by` of now() (the actors run between), and
  // ends with the virtual clock moved forward by `by`.
  void advance_time(Duration by);
  // The clock timers and timeouts go by: steady_clock, or in deterministic mode the virtual
  // clock (which starts at zero).
  runtime::TimerService::Clock::time_point now() const;
  // Config::idle_spin (zero in deterministic mode, where nothing runs while a thread waits).
  std::chrono::microseconds idle_spin() const noexcept;
  bool adaptive_spin() const noexcept;  // Config::adaptive_spin
  // The seed of a deterministic system; nullopt for a threaded one.
  std::optional<std::uint64_t> deterministic_seed() const noexcept;
  // Stops every actor now (reason: shutdown); their unhandled messages become dead letters.
  // Then stops the workers. Idempotent; the destructor calls it.
  void shutdown();

  // True once shutdown() has begun: every actor stops at the start of its next turn.
  bool stopping() const noexcept {
    // Relaxed: a hint read at every turn; the stop signal shutdown() sends each actor carries
    // the ordering (mailbox push/pop) and makes sure it runs that turn.
    return stopping_.load(std::memory_order_relaxed);
  }

  // Names (see registry.hpp). register_name: Errc::name_taken if another actor holds the name,
  // Errc::dead_actor if `actor` has stopped (or is empty, or not spawned by this system). A name
  // is dropped when its actor stops. whereis: the named actor, or nullopt. unregister_name:
  // whether the name was registered. Thread-safe from any thread.
  Result<void> register_name(std::string name, const DynamicHandle& actor);
  std::optional<DynamicHandle> whereis(std::string_view name) const;
  bool unregister_name(std::string_view name);
  // Typed: the named actor as typed handle H, or Errc::no_such_name, or Errc::interface_mismatch
  // naming the message types H names that the actor has no handler for (Context::handles).
  template <TypedHandle H>
  Result<H> whereis(std::string_view name) const;

  // Waiting for a name (name_service.hpp). await_name blocks the calling thread (not an actor's)
  // until an actor registers `name` (at once if one has): Errc::timeout after `timeout`,
  // Errc::system_shutdown if the system stops first. name_service: the actor that answers
  // AwaitName requests, started on first use; an empty handle once shutdown() has begun.
  Result<DynamicHandle> await_name(std::string_view name, Duration timeout = default_request_timeout);
  Handle<DynamicHandle(AwaitName)> name_service();

  // Process groups (groups.hpp): join, leave, members, broadcast, monitor. Thread-safe.
  Groups& groups() noexcept;

  std::uint64_t dead_letters() const noexcept;
  // Requests neither awaited nor continued (see request.hpp) whose reply was an error (a timeout,
  // a dead actor, a handler's Error): their replies are dropped, these are counted.
  std::uint64_t dropped_request_errors() const noexcept;
  std::size_t live_actors() const noexcept;
  unsigned worker_count() const noexcept;  // 0 in deterministic mode
  // What the safety net did (Config::stuck_turn): turns found stuck, compensating workers started
  // and running now. Zeros in deterministic mode.
  runtime::SchedulerStats scheduler_stats() const noexcept;
  // What the system is doing now (<troupe/metrics.hpp>): its workers, actor types, dead letters,
  // timers and, for a node, its peers. Any thread. Sums per-worker counters and walks the live
  // actors (each shard of them under its lock): cheap enough to take every second.
  MetricsSnapshot metrics() const;
  // Adds `fill` to every snapshot, called last and on the caller's thread (a node adds its peers;
  // keep it short). Returns an id for remove_metrics_source, which waits for a call under way.
  std::uint64_t add_metrics_source(std::function<void(MetricsSnapshot&)> fill);
  void remove_metrics_source(std::uint64_t id);
  // Serves /metrics (Prometheus text format 0.0.4), /metrics.json and the dashboard (/) over
  // HTTP on `address` ("host:port"; port 0 picks a free one), until the system shuts down.
  // Returns the address it listens on. Throws std::runtime_error if it cannot listen there, if
  // this system serves already, or if the exporter is not linked (troupe::troupe links it).
  std::string serve_metrics(const std::string& address);
  // Where this system serves its metrics; empty when it does not.
  std::string metrics_address() const;
  // The system's logger (Config::log): its nodes log through it, and so may the application,
  // to reach the same sink. Valid as long as the system.
  const Logger& logger() const noexcept;

  // Internals, for the actor cell and spawn.
  struct Internals;
  Internals& internals() noexcept { return *internals_; }
  runtime::TimerService& timers() noexcept;
  // A timer on this system's timer service: once after `delay`, every `delay`, or once after
  // `delay` in the background (TimerService::run_in_background). After shutdown() it is born
  // cancelled, and never fires.
  enum class TimerKind : std::uint8_t { once, every, background };
  Timer add_timer(Duration delay, TimerKind kind, std::unique_ptr<runtime::TimerTask> task);
  // Deterministic mode: runs the actors on the calling thread, firing timers as the virtual clock
  // reaches them, until done() (true), or until nothing can run before `deadline` (false; the
  // clock then stands at `deadline` unless that is time_point::max(), when background timers
  // (periodic ones, receive timeouts) are not waited for).
  bool run_until(const std::function<bool()>& done, runtime::TimerService::Clock::time_point deadline);
  // Counts `env` as a dead letter, shows it to Config::on_dead_letter, and answers a request with
  // the error the reason maps to. Does not dispose of it.
  void dead_letter(const runtime::ActorCore& receiver, Envelope& env, DeadLetter::Reason reason) noexcept;
  void actor_exited(detail::ActorCell& actor, const ExitReason& reason) noexcept;
  void count_dropped_request_error() noexcept;

 private:
  friend class Context;  // spawn_link
  friend struct detail::PoolAccess;
  // `link_to`, when set, is the spawning actor (on its own thread): the child starts linked to it.
  template <class F, class... A>
  auto spawn_function(SpawnOptions options, detail::ActorCell* link_to, F&& init, A&&... args);
  template <class Impl, class... A>
  auto spawn_class(SpawnOptions options, detail::ActorCell* link_to, A&&... args);
  template <class Block, class Init>
  runtime::ActorCore* launch(SpawnOptions options, detail::ActorCell* link_to, Init&& init);
  runtime::Executor* executor_for(const SpawnOptions& options);
  // How a thread waits for room in a bounded mailbox of this system (nullptr: it blocks).
  runtime::RoomWaiter* room_waiter() const noexcept;
  void register_actor(detail::ActorCell* actor);
  void start_configured_metrics();  // system_metrics.cpp
  void stop_metrics_server() noexcept;
  void names_registered() noexcept;  // pokes the name service if it waits for names

  std::unique_ptr<Internals> internals_;
  std::uint16_t budget_;
  std::atomic<bool> stopping_{false};
};

}  // namespace troupe

#include <troupe/spawn.hpp>

namespace troupe {
namespace detail {
// The names of the message types among Sigs that `actor` has no handler for, joined by ", "
// (empty: none). An actor that is not a cell (a remote proxy) cannot be asked: it passes.
template <class... Sigs>
std::string missing_handlers(const DynamicHandle& actor, const Handle<Sigs...>*) {
  std::string missing;
  const auto* cell = dynamic_cast<const ActorCell*>(actor.core());
  if (cell == nullptr) return missing;
  auto check = [&](const MessageType& type) {
    if (cell->handles(&type)) return;
    if (!missing.empty()) missing += ", ";
    missing += type.name;
  };
  (check(message_type<typename signature<Sigs>::message>), ...);
  return missing;
}
}  // namespace detail

template <TypedHandle H>
Result<H> System::whereis(std::string_view name) const {
  std::optional<DynamicHandle> found = whereis(name);
  if (!found) return Error{Errc::no_such_name, std::string(name)};
  using Base = decltype(detail::typed_base(std::declval<const H&>()));
  const std::string missing = detail::missing_handlers(*found, static_cast<const Base*>(nullptr));
  if (!missing.empty()) {
    std::string what("the actor named '");
    what += name;
    what += "' has no handler for ";
    what += missing;
    return Error{Errc::interface_mismatch, std::move(what)};
  }
  return detail::assume_typed<H>(std::move(*found));
}
}  // namespace troupe
