#include <troupe/system.hpp>

#include "deterministic_driver.hpp"
#include "stop_live_actors.hpp"
#include "system_internals.hpp"

#include <troupe/runtime/trace.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace troupe {

namespace {

using TimePoint = runtime::TimerService::Clock::time_point;

// now + timeout, saturating: a timeout of a year or more means "never" (time_point::max()), as
// Duration::max() would otherwise overflow.
TimePoint deadline_after(TimePoint now, Duration timeout) {
  if (timeout >= std::chrono::hours(24 * 365)) return TimePoint::max();
  return now + std::chrono::duration_cast<TimePoint::duration>(timeout);
}

// An actor that stopped with an error: "actor_failed", with its type and the reason.
void log_failure(const Logger& logger, std::string_view actor, const ExitReason& reason) noexcept {
  if (!logger.enabled(LogLevel::error)) return;
  try {
    logger.log({.level = LogLevel::error,
                .name = "actor_failed",
                .message = "actor " + std::string(actor) + " stopped: " + reason.to_string(),
                .actor = actor,
                .reason = reason.message});
  } catch (...) {  // no memory for the message: the event is lost, not the actor's exit
  }
}

std::uint16_t budget_of(const Config& config) {
  const std::uint16_t budget = config.deterministic ? config.deterministic->budget : config.budget;
  return budget == 0 ? 1 : budget;
}

}  // namespace

System::System(Config config) : budget_(budget_of(config)) {
  if (config.trace_path.empty()) {
    if (const char* path = std::getenv("TROUPE_TRACE"); path != nullptr) config.trace_path = path;
  }
  if (!config.trace_path.empty()) runtime::trace::enable(true);
  internals_ = std::make_unique<Internals>(std::move(config), *this);
  if (internals_->deterministic) internals_->room_waiter = std::make_unique<detail::RunUntilRoom>(*this);
  try {
    start_configured_metrics();
  } catch (...) {  // Config::metrics_address could not be served: nothing runs yet, stop it all
    shutdown();
    throw;
  }
}

runtime::RoomWaiter* System::room_waiter() const noexcept { return internals_->room_waiter.get(); }

System::~System() {
  wait_idle();
  shutdown();
}

runtime::TimerService& System::timers() noexcept { return *internals_->timers; }

unsigned System::worker_count() const noexcept { return internals_->pool ? internals_->pool->worker_count() : 0; }

runtime::SchedulerStats System::scheduler_stats() const noexcept {
  return internals_->pool ? internals_->pool->stats() : runtime::SchedulerStats{};
}

const Logger& System::logger() const noexcept { return internals_->logger; }

bool System::adaptive_spin() const noexcept { return internals_->config.adaptive_spin; }

std::chrono::microseconds System::idle_spin() const noexcept {
  return internals_->deterministic ? std::chrono::microseconds{0} : internals_->config.idle_spin;
}

std::optional<std::uint64_t> System::deterministic_seed() const noexcept {
  if (!internals_->deterministic) return std::nullopt;
  return internals_->deterministic->seed();
}

std::uint64_t System::dead_letters() const noexcept {
  // Acquire: pairs with the release increments, so a caller that sees the count also sees the
  // hook calls that preceded it.
  return internals_->dead_letters.load(std::memory_order_acquire);
}

std::uint64_t System::dropped_request_errors() const noexcept {
  // Relaxed: a statistic; nothing else is published with it.
  return internals_->dropped_request_errors.load(std::memory_order_relaxed);
}

void System::count_dropped_request_error() noexcept {
  // Relaxed: see dropped_request_errors().
  internals_->dropped_request_errors.fetch_add(1, std::memory_order_relaxed);
}

std::size_t System::live_actors() const noexcept { return internals_->live.size(); }

runtime::Executor* System::executor_for(const SpawnOptions& options) {
  // Deterministic mode runs blocking actors on the driving thread like the rest: a handler that
  // blocks blocks the whole test, which is what a test that wants one order needs.
  if (!options.blocking || internals_->deterministic) return internals_->executor;
  std::lock_guard lock(internals_->blocking_mutex);
  auto& threads = internals_->blocking_threads;
  // Reap the threads of blocking actors that have stopped.
  std::erase_if(threads, [](const std::unique_ptr<runtime::DedicatedThread>& t) {
    if (!t->finished()) return false;
    t->join();
    return true;
  });
  threads.push_back(std::make_unique<runtime::DedicatedThread>(internals_->pool.get()));
  return threads.back().get();
}

void System::register_actor(detail::ActorCell* actor) {
  // A blocking actor's thread first: it waits for the actor's first turn, and if it cannot be
  // made, no other part of the system has seen the actor yet. The caller starts the actor next;
  // until then, shutdown's walk of the live set leaves it alone (ActorCore::started).
  runtime::Executor* executor = actor->executor();
  if (executor != internals_->executor) static_cast<runtime::DedicatedThread*>(executor)->start(actor);
  internals_->live.insert(actor);
}

Timer System::add_timer(Duration delay, TimerKind kind, std::unique_ptr<runtime::TimerTask> task) {
  // After shutdown() the timer service is gone (step 6): a timer set now is born cancelled, like
  // one set during the shutdown (step 2), and its message is never sent.
  if (!internals_->timers) return Timer{};
  auto& timers = *internals_->timers;
  switch (kind) {
    case TimerKind::once:
      return timers.run_after(delay, std::move(task));
    case TimerKind::every:
      return timers.run_every(delay, std::move(task));
    case TimerKind::background:
      return timers.run_in_background(delay, std::move(task));
  }
  return Timer{};
}

namespace {

Errc error_of(DeadLetter::Reason reason) noexcept {
  switch (reason) {
    case DeadLetter::Reason::receiver_stopped:
      return Errc::dead_actor;
    case DeadLetter::Reason::unhandled:
      return Errc::unexpected_message;
    case DeadLetter::Reason::mailbox_full:
      return Errc::mailbox_full;
    case DeadLetter::Reason::not_serializable:
      return Errc::not_serializable;
    case DeadLetter::Reason::message_too_large:
      return Errc::message_too_large;
  }
  return Errc::dead_actor;
}

}  // namespace

void System::dead_letter(const runtime::ActorCore& receiver, Envelope& env, DeadLetter::Reason reason) noexcept {
  // Release: pairs with the acquire load in dead_letters().
  internals_->dead_letters.fetch_add(1, std::memory_order_release);
  if (const auto r = static_cast<std::size_t>(reason); r < dead_letter_reasons) {
    internals_->dead_letters_by_reason[r].fetch_add(1, std::memory_order_relaxed);  // a statistic
  }
  const bool was_request = env.kind() == EnvelopeKind::request;
  if (internals_->config.on_dead_letter) {
    try {
      internals_->config.on_dead_letter(DeadLetter{env.type()->name, receiver.name(), reason, was_request});
    } catch (...) {  // a throwing hook must not take the runtime down
    }
  }
  if (was_request) {
    detail::send_response_error(env.reply().reply_to, env.reply().request_id,
                                Error{error_of(reason), std::string(env.type()->name)});
  }
}

void System::actor_exited(detail::ActorCell& actor, const ExitReason& reason) noexcept {
  internals_->live.erase(&actor, reason.kind);
  internals_->registry.drop_all(actor);  // after the erase: see registry.cpp; before the hook
  internals_->groups.drop_all(actor);    // the same (groups.cpp)
  if (reason.kind == ExitReason::Kind::error) log_failure(internals_->logger, actor.name(), reason);
  const auto& hook = internals_->config.on_actor_exit;
  try {
    if (hook) hook(ExitInfo{actor.name(), reason});
  } catch (...) {  // a throwing hook must not take the runtime down
  }
}

bool System::wait_idle(Duration timeout) {
  {
    // After shutdown() nothing runs again, and the stopped workers would never report quiescence.
    std::lock_guard lock(internals_->shutdown_mutex);
    if (internals_->shut_down) return true;
  }
  const TimePoint deadline = deadline_after(now(), timeout);
  if (internals_->deterministic) {
    const auto outcome = detail::drive(*internals_->deterministic, *internals_->timers, nullptr, deadline, false);
    if (outcome == detail::DriveOutcome::idle) return true;
    internals_->timers->advance_clock_to(deadline);
    return false;
  }
  return internals_->pool->wait_quiescent(deadline);
}

TimePoint System::now() const {
  // After shutdown the timer service is gone; no timer is left to go by either clock.
  return internals_->timers ? internals_->timers->now() : runtime::TimerService::Clock::now();
}

bool System::run_until(const std::function<bool()>& done, TimePoint deadline) {
  auto& in = *internals_;
  {
    std::lock_guard lock(in.shutdown_mutex);
    if (in.shut_down) {  // no timers any more; whatever is still ready runs (as dead letters)
      in.deterministic->run_until_idle();
      return done();
    }
  }
  // A wait without end must not wait for background timers (periodic ones, receive timeouts):
  // they would tick forever.
  const bool background_counts = deadline != TimePoint::max();
  if (detail::drive(*in.deterministic, *in.timers, done, deadline, background_counts) == detail::DriveOutcome::done) {
    return true;
  }
  if (background_counts) in.timers->advance_clock_to(deadline);  // the wait took all its time
  return false;
}

void System::advance_time(Duration by) {
  auto& in = *internals_;
  if (!in.deterministic) throw std::logic_error("troupe: advance_time needs a deterministic system");
  {
    std::lock_guard lock(in.shutdown_mutex);
    if (in.shut_down) return;
  }
  const TimePoint target = deadline_after(now(), by);
  const bool bounded = target != TimePoint::max();  // unbounded: background timers would tick forever
  detail::drive(*in.deterministic, *in.timers, nullptr, target, bounded);
  if (bounded) in.timers->advance_clock_to(target);
}

// The shutdown protocol.
//  1. Only the first call shuts down; later calls return at once.
//  2. Close the timer service: every pending timer is cancelled and later ones are born
//     cancelled (a pending one-shot timer would otherwise hold the pool out of quiescence).
//  3. Raise the stopping flag, then send a stop signal to every live actor, which schedules it
//     (stop_live_actors.cpp: one signal per actor, however long it takes).
//     Every actor checks the flag at the start of each turn, so the stop overtakes whatever user
//     messages are queued: it stops with reason `shutdown`, a suspended coroutine's requester
//     gets Errc::system_shutdown, and every message left in its mailbox (and any sent later)
//     becomes a dead letter — nothing is lost silently.
//  4. Wait until the pool is quiescent (deterministic mode: run the actors until none is ready).
//     Actors spawned during steps 3–4 are still live then: repeat from 3 until no actor is live.
//     (A blocking actor that never returns from its handler keeps this waiting: blocking
//     handlers must end. After a second of waiting, and every ten seconds after, a warning
//     names the actors it waits for.)
//  5. Stop the worker threads and join them; join the threads of blocking actors.
//  6. Destroy the timer service, releasing the handles its cancelled timers held.
// Handles that outlive the system keep their actor's memory alive, but must not be used to send.
void System::shutdown() {
  auto& in = *internals_;
  {
    std::lock_guard lock(in.shutdown_mutex);
    if (in.shut_down) return;
    in.shut_down = true;
  }
  stop_metrics_server();  // first: it reads what the steps below take down
  in.timers->close();
  stopping_.store(true, std::memory_order_relaxed);  // relaxed: see stopping()
  detail::stop_live_actors(in);
  if (in.pool) in.pool->stop();
  {
    std::lock_guard lock(in.blocking_mutex);
    for (auto& t : in.blocking_threads) t->join();
    in.blocking_threads.clear();
  }
  // 5a. Every worker has stopped: their trace buffers are quiet and can be written.
  if (!in.config.trace_path.empty()) {
    runtime::trace::enable(false);
    if (!runtime::trace::write_chrome_json(in.config.trace_path) && in.logger.enabled(LogLevel::error)) {
      const LogField path[] = {{"path", in.config.trace_path}};
      in.logger.log({.level = LogLevel::error,
                     .name = "trace_not_written",
                     .message = "cannot write the trace to " + in.config.trace_path,
                     .fields = path});
    }
  }
  in.timers.reset();
}

}  // namespace troupe
