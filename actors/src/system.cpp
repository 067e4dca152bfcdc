#include <troupe/system.hpp>

#include "system_internals.hpp"

#include <troupe/runtime/trace.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace troupe {

System::System(Config config) : budget_(config.budget == 0 ? 1 : config.budget) {
  if (config.trace_path.empty()) {
    if (const char* path = std::getenv("TROUPE_TRACE"); path != nullptr) config.trace_path = path;
  }
  if (!config.trace_path.empty()) runtime::trace::enable(true);
  internals_ = std::make_unique<Internals>(std::move(config));
}

System::~System() {
  wait_idle();
  shutdown();
}

runtime::TimerService& System::timers() noexcept { return *internals_->timers; }

unsigned System::worker_count() const noexcept { return internals_->scheduler.worker_count(); }

std::uint64_t System::dead_letters() const noexcept {
  // Acquire: pairs with the release increments, so a caller that sees the count also sees the
  // hook calls that preceded it.
  return internals_->dead_letters.load(std::memory_order_acquire);
}

std::size_t System::live_actors() const noexcept { return internals_->live.size(); }

runtime::Executor* System::executor_for(const SpawnOptions& options) {
  if (!options.blocking) return &internals_->scheduler;
  std::lock_guard lock(internals_->blocking_mutex);
  auto& threads = internals_->blocking_threads;
  // Reap the threads of blocking actors that have stopped.
  std::erase_if(threads, [](const std::unique_ptr<runtime::DedicatedThread>& t) {
    if (!t->finished()) return false;
    t->join();
    return true;
  });
  threads.push_back(std::make_unique<runtime::DedicatedThread>(&internals_->scheduler));
  return threads.back().get();
}

void System::register_actor(Context* actor) {
  internals_->live.insert(actor);
  runtime::Executor* executor = actor->executor();
  if (executor != &internals_->scheduler) static_cast<runtime::DedicatedThread*>(executor)->start(actor);
}

Timer System::add_timer(Duration delay, bool periodic, std::unique_ptr<runtime::TimerTask> task) {
  auto& timers = *internals_->timers;
  return periodic ? timers.run_every(delay, std::move(task)) : timers.run_after(delay, std::move(task));
}

void System::dead_letter(Context& receiver, Envelope& env, DeadLetter::Reason reason) noexcept {
  // Release: pairs with the acquire load in dead_letters().
  internals_->dead_letters.fetch_add(1, std::memory_order_release);
  const bool was_request = env.kind() == EnvelopeKind::request;
  if (internals_->config.on_dead_letter) {
    try {
      internals_->config.on_dead_letter(DeadLetter{env.type()->name, receiver.name(), reason, was_request});
    } catch (...) {  // a throwing hook must not take the runtime down
    }
  }
  if (was_request) {
    const Errc code = reason == DeadLetter::Reason::unhandled      ? Errc::unexpected_message
                      : reason == DeadLetter::Reason::mailbox_full ? Errc::mailbox_full
                                                                   : Errc::dead_actor;
    detail::send_response_error(env.reply().reply_to, env.reply().request_id, Error{code, std::string(env.type()->name)});
  }
}

void System::actor_exited(Context& actor, const ExitReason& reason) noexcept {
  internals_->live.erase(&actor);
  internals_->registry.drop_all(actor);  // after the erase: see registry.cpp; before the hook
  const auto& hook = internals_->config.on_actor_exit;
  try {
    if (hook) {
      hook(ExitInfo{actor.name(), reason});
    } else if (reason.kind == ExitReason::Kind::error) {
      std::fprintf(stderr, "troupe: actor %.*s stopped: %s\n", static_cast<int>(actor.name().size()),
                   actor.name().data(), reason.to_string().c_str());
    }
  } catch (...) {  // a throwing hook must not take the runtime down
  }
}

bool System::wait_idle(Duration timeout) {
  {
    // After shutdown() nothing runs again, and the stopped workers would never report quiescence.
    std::lock_guard lock(internals_->shutdown_mutex);
    if (internals_->shut_down) return true;
  }
  const auto now = std::chrono::steady_clock::now();
  const auto deadline = timeout >= std::chrono::steady_clock::time_point::max() - now
                            ? std::chrono::steady_clock::time_point::max()
                            : now + timeout;
  return internals_->scheduler.wait_quiescent(deadline);
}

// The shutdown protocol.
//  1. Only the first call shuts down; later calls return at once.
//  2. Close the timer service: every pending timer is cancelled and later ones are born
//     cancelled (a pending one-shot timer would otherwise hold the pool out of quiescence).
//  3. Raise the stopping flag, then send a stop signal to every live actor, which schedules it.
//     Every actor checks the flag at the start of each turn, so the stop overtakes whatever user
//     messages are queued: it stops with reason `shutdown`, a suspended coroutine's requester
//     gets Errc::system_shutdown, and every message left in its mailbox (and any sent later)
//     becomes a dead letter — nothing is lost silently.
//  4. Wait until the pool is quiescent. Actors spawned during steps 3–4 are still live then:
//     repeat from 3 until no actor is live. (A blocking actor that never returns from its
//     handler keeps this waiting: blocking handlers must end.)
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
  in.timers->close();
  stopping_.store(true, std::memory_order_relaxed);  // relaxed: see stopping()
  while (in.live.size() > 0) {
    in.live.for_each([](Context* actor) {
      try {
        actor->enqueue(make_envelope<Unit>(EnvelopeKind::stop));
        actor->unmute();  // a muted actor stops now, not when its receiver drains
      } catch (...) {  // no memory for the signal: the next round tries again
      }
    });
    in.scheduler.wait_quiescent();
  }
  in.scheduler.stop();
  {
    std::lock_guard lock(in.blocking_mutex);
    for (auto& t : in.blocking_threads) t->join();
    in.blocking_threads.clear();
  }
  // 5a. Every worker has stopped: their trace buffers are quiet and can be written.
  if (!in.config.trace_path.empty()) {
    runtime::trace::enable(false);
    if (!runtime::trace::write_chrome_json(in.config.trace_path)) {
      std::fprintf(stderr, "troupe: cannot write the trace to %s\n", in.config.trace_path.c_str());
    }
  }
  in.timers.reset();
}

}  // namespace troupe
