#include "stop_live_actors.hpp"

#include "system_internals.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace troupe::detail {
namespace {

using Clock = std::chrono::steady_clock;

// When shutdown first says which actors it waits for, and how often after that: a second is long
// past what stopping takes (milliseconds) and short enough for whoever watches it hang.
constexpr auto kFirstReport = std::chrono::seconds(1);
constexpr auto kReportEvery = std::chrono::seconds(10);
constexpr std::size_t kNamedInReport = 8;  // kinds of actor (type and state); the rest are counted
// A round that finds the pool quiescent with actors still live, and none to signal, waits before
// the next: from kFirstPause, doubling, up to kLongestPause. Nothing the pool does can stop them
// then (see stop_live_actors), so the walk is only repeated for what other threads may do.
constexpr auto kFirstPause = std::chrono::milliseconds(1);
constexpr auto kLongestPause = std::chrono::milliseconds(100);

// Sends each live actor that has not had it its stop signal, and unmutes every one (a muted
// actor stops now, not when its receiver drains). One signal per actor however long shutdown
// waits, so waiting costs no memory. Returns how many were signalled now.
std::size_t signal_live_actors(LiveSet& live) {
  std::size_t signalled = 0;
  live.for_each([&](ActorCell* actor) {
    // Not started yet: its creator starts it in a moment, and the next round signals it (unless
    // its first turn sees the system stopping). The shard's lock keeps a started actor from
    // stopping (and so from being freed) meanwhile.
    if (!actor->started()) return;
    if (!actor->stop_signalled()) {
      try {
        actor->enqueue(make_envelope<Unit>(EnvelopeKind::stop));
        actor->mark_stop_signalled();
        ++signalled;
      } catch (...) {  // no memory for the signal: the next round tries again
      }
    }
    actor->unmute();
  });
  return signalled;
}

// What an actor shutdown waits for is doing, in words. `pool_quiescent`: every worker sleeps.
std::string_view state_of(ActorCell& actor, const System::Internals& in, bool pool_quiescent) {
  if (!actor.started()) return "new: not started yet";
  const bool own_thread = actor.executor() != in.executor;  // a blocking actor
  switch (actor.run_state_hint()) {
    case runtime::ActorCore::RunState::idle:
      return actor.stop_signalled() ? "idle" : "new: its stop signal not sent yet";
    case runtime::ActorCore::RunState::parked:
      return "parked by backpressure";
    case runtime::ActorCore::RunState::scheduled:
      if (own_thread) return "blocking: in a handler on its own thread";
      return pool_quiescent ? "scheduled, yet every worker sleeps: a fault in the scheduler"
                            : "in a turn, or waiting for a worker";
  }
  return "unknown";
}

// A warning naming the actors shutdown still waits for, with what each is doing: alike ones
// (the same type, doing the same) once, with their count.
void report_waiting(System::Internals& in, Clock::duration waited, bool pool_quiescent) {
  if (!in.logger.enabled(LogLevel::warning)) return;
  try {
    struct Alike {
      std::string_view name, state;  // static storage, both
      std::size_t count;
    };
    std::vector<Alike> named;
    std::size_t count = 0, unnamed = 0;
    in.live.for_each([&](ActorCell* actor) {
      ++count;
      const std::string_view name = actor->name(), state = state_of(*actor, in, pool_quiescent);
      auto it =
          std::find_if(named.begin(), named.end(), [&](const Alike& a) { return a.name == name && a.state == state; });
      if (it != named.end()) {
        ++it->count;
      } else if (named.size() < kNamedInReport) {
        named.push_back({name, state, 1});
      } else {
        ++unnamed;
      }
    });
    if (count == 0) return;  // stopped meanwhile
    std::string list;
    for (const Alike& a : named) {
      if (!list.empty()) list += "; ";
      if (a.count > 1) list += std::to_string(a.count) + " x ";
      list.append(a.name).append(" (").append(a.state).append(")");
    }
    if (unnamed != 0) list += "; and " + std::to_string(unnamed) + " more";
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(waited).count();
    const std::string count_text = std::to_string(count);
    const LogField fields[] = {{"waiting_for", count_text}};
    in.logger.log({.level = LogLevel::warning,
                   .name = "shutdown_waiting",
                   .message = "shutdown has waited " + std::to_string(seconds) + " s for " + count_text +
                              (count == 1 ? " actor" : " actors") + " to stop: " + list,
                   .fields = fields});
  } catch (...) {  // no memory for the report: shutdown goes on waiting without it
  }
}

}  // namespace

// Each round signals the actors not yet signalled (those spawned since the last round: the
// first signals all), then waits until the pool is quiescent. An actor whose turn comes after its
// signal stops; so, once the pool is quiescent, an actor still live is one spawned since, or
// one that never got a turn (a scheduler fault), which no further signal would help. A blocking
// actor's turn holds the pool out of quiescence, so a handler that does not end keeps the wait
// going: the reports say which.
void stop_live_actors(System::Internals& in) {
  const auto began = Clock::now();
  auto next_report = began + kFirstReport;
  auto pause = kFirstPause;
  for (;;) {
    const std::size_t signalled = signal_live_actors(in.live);
    bool quiescent = true;
    if (in.deterministic) {
      in.deterministic->run_until_idle();
    } else {
      quiescent = in.pool->wait_quiescent(next_report);
    }
    if (in.live.size() == 0) return;
    if (quiescent && signalled == 0) {
      std::this_thread::sleep_for(
          std::min<Clock::duration>(pause, std::max<Clock::duration>(next_report - Clock::now(), {})));
      pause = std::min(pause * 2, kLongestPause);
    } else if (signalled != 0) {
      pause = kFirstPause;
    }
    const auto now = Clock::now();
    if (now >= next_report) {
      report_waiting(in, now - began, quiescent);
      next_report = now + kReportEvery;
    }
  }
}

}  // namespace troupe::detail
