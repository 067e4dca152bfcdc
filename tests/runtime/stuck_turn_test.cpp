// The safety net for a turn that does not end (README, "Guarantees", "A turn that does not end";
// runtime/src/watchdog.hpp). Handlers here compute without returning for hundreds of
// milliseconds on every worker; the actors and timers of the system must keep running meanwhile,
// the actor such a handler woke must not wait for it, and the compensating threads must go once
// the handlers return. One case turns the net off, to show what it does.
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

using namespace troupe_test;

namespace {

// Computes, never yielding, for `length` once every one of `together` hogs has started (so that
// they hold every worker at once; bounded, for a failing test).
struct Hog {
  std::chrono::milliseconds length;
};
struct Hogs {
  explicit Hogs(int n) : together(n) {}
  const int together;
  std::atomic<int> started{0};
  std::atomic<int> finished{0};
};
auto hog(troupe::Context&, std::shared_ptr<Hogs> hogs) {
  return troupe::behavior([hogs](const Hog& h) {
    hogs->started.fetch_add(1);
    const auto give_up = Clock::now() + 5s;
    while (hogs->started.load() < hogs->together && Clock::now() < give_up) {
    }
    const auto end = Clock::now() + h.length;
    volatile std::uint64_t sink = 0;
    while (Clock::now() < end) sink = sink + 1;
    hogs->finished.fetch_add(1);
  });
}

// A periodic tick's handler records how late it ran: how much longer than the period it waited
// since the tick before (a stall shows once, in full, however the timer catches up after it).
struct Tick {};
struct Ticks {
  std::mutex mutex;
  std::vector<double> late_ms;                // one per tick after the first
  std::vector<Clock::time_point> handled_at;  // the same ticks'
};
auto ticker(troupe::Context&, std::shared_ptr<Ticks> ticks, std::chrono::milliseconds period) {
  auto last = std::make_shared<Clock::time_point>();
  return troupe::behavior([ticks, last, period](Tick) {
    const auto now = Clock::now();
    if (*last != Clock::time_point{}) {
      std::lock_guard lock(ticks->mutex);
      ticks->late_ms.push_back(std::max(0.0, std::chrono::duration<double, std::milli>(now - *last - period).count()));
      ticks->handled_at.push_back(now);
    }
    *last = now;
  });
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 1e9;
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(p * static_cast<double>(values.size() - 1))];
}

struct Reports {
  std::mutex mutex;
  std::vector<troupe::StuckTurn> turns;
  std::vector<troupe::StuckTurn> snapshot() {
    std::lock_guard lock(mutex);
    return turns;
  }
};

troupe::Config guarded(unsigned workers, std::shared_ptr<Reports> reports) {
  troupe::Config config{.workers = workers};
  config.stuck_turn = 10ms;
  config.on_stuck_turn = [reports](const troupe::StuckTurn& turn) {
    std::lock_guard lock(reports->mutex);
    reports->turns.push_back(turn);
  };
  return config;
}

}  // namespace

// Waits for every hog to finish, then for the compensating threads to go.
void wait_hogs(troupe::System& system, const Hogs& hogs) {
  REQUIRE(eventually([&] { return hogs.finished.load() == hogs.together; }, 30s));
  CHECK(eventually([&] { return system.scheduler_stats().compensating_now == 0; }));
}

TEST_SUITE("stuck turns") {
  TEST_CASE("every worker held by a 500 ms handler: timers and actors keep running, late by under 20 ms") {
    auto reports = std::make_shared<Reports>();
    troupe::System system(guarded(2, reports));
    auto hogs = std::make_shared<Hogs>(2);
    auto ticks = std::make_shared<Ticks>();
    const auto period = 2ms;
    auto tick = system.spawn(ticker, ticks, period);
    troupe::Timer timer = system.send_every(tick, period, Tick{});
    REQUIRE(eventually([&] {
      std::lock_guard lock(ticks->mutex);
      return ticks->late_ms.size() >= 5;
    }));
    for (int i = 0; i < 2; ++i) system.spawn(hog, hogs).send(Hog{500ms});
    REQUIRE(eventually([&] { return hogs->started.load() == 2; }));
    const auto held_from = Clock::now();
    wait_hogs(system, *hogs);
    const auto held_until = Clock::now() - 100ms;  // well inside the hogs' turns
    timer.cancel();

    std::vector<double> late;
    {
      std::lock_guard lock(ticks->mutex);
      for (std::size_t i = 0; i < ticks->late_ms.size(); ++i) {
        if (ticks->handled_at[i] > held_from && ticks->handled_at[i] < held_until) late.push_back(ticks->late_ms[i]);
      }
    }
    MESSAGE("ticks while held: " << late.size() << ", late p50 " << percentile(late, 0.5) << " ms, p99 "
                                 << percentile(late, 0.99) << " ms, max " << percentile(late, 1.0) << " ms");
    // About 175 are due in that window; none would run without the net. The first tick after the
    // hogs start waits for the watchdog (10-12.5 ms). A sanitizer build runs every turn several
    // times slower: there the bound is only far below the hold (500 ms).
    CHECK(late.size() >= (sanitized ? 20u : 100u));
    CHECK(percentile(late, 0.99) < (sanitized ? 100.0 : 20.0));

    const troupe::runtime::SchedulerStats stats = system.scheduler_stats();
    CHECK(stats.stuck_turns >= 2);
    CHECK(stats.compensating_started >= 2);
    CHECK(stats.compensating_now == 0);  // retired once the turns ended
    // Each stuck turn is reported when found and when it ends, naming the hog and how long it took.
    // The end is reported by the worker just after its turn, so it may still be on its way when
    // the hogs' handlers have returned (and, with its compensator retired first, after the
    // compensators are gone): wait for it, bounded.
    const auto reported = [&] {
      const std::vector<troupe::StuckTurn> turns = reports->snapshot();
      const auto ended = std::count_if(turns.begin(), turns.end(), [](const auto& t) { return t.ended; });
      return ended >= 2 && 2 * ended == static_cast<std::ptrdiff_t>(turns.size());
    };
    CHECK(eventually(reported));
    const std::vector<troupe::StuckTurn> turns = reports->snapshot();
    int found = 0;
    int ended = 0;
    for (const troupe::StuckTurn& turn : turns) {
      CHECK(turn.actor.find("hog") != std::string_view::npos);
      if (turn.ended) {
        ++ended;
        CHECK(turn.duration >= 400ms);
      } else {
        ++found;
        CHECK(turn.duration >= 10ms);
      }
    }
    CHECK(found >= 2);
    CHECK(ended == found);
  }

  TEST_CASE("the actor a long handler woke does not wait for it: it leaves the worker's LIFO slot") {
    auto reports = std::make_shared<Reports>();
    troupe::System system(guarded(1, reports));  // one worker: only the net can run it meanwhile
    troupe::ScopedActor me(system);
    auto hogs = std::make_shared<Hogs>(1);
    struct Ping {};
    struct Pong {
      int hogs_finished;
    };
    auto echo = system.spawn([hogs, to = me.handle()](troupe::Context&) {
      return troupe::behavior([hogs, to](Ping) { to.send(Pong{hogs->finished.load()}); });
    });
    // The hog wakes `echo` (into its worker's LIFO slot), then computes for 400 ms.
    auto waker = system.spawn([hogs, echo](troupe::Context&) {
      return troupe::behavior([hogs, echo](Hog h) {
        echo.send(Ping{});
        hogs->started.fetch_add(1);
        const auto end = Clock::now() + h.length;
        volatile std::uint64_t sink = 0;
        while (Clock::now() < end) sink = sink + 1;
        hogs->finished.fetch_add(1);
      });
    });
    waker.send(Hog{400ms});
    auto pong = me.receive<Pong>(10s);
    REQUIRE(pong.ok());
    CHECK(pong->hogs_finished == 0);  // answered while the hog still held the worker
    wait_hogs(system, *hogs);
    CHECK(system.scheduler_stats().stuck_turns == 1);
  }

  TEST_CASE("with the net off (stuck_turn zero), a held worker runs nothing else") {
    troupe::Config config{.workers = 1};
    config.stuck_turn = 0ms;
    troupe::System system(config);
    auto hogs = std::make_shared<Hogs>(1);
    auto ticks = std::make_shared<Ticks>();
    auto tick = system.spawn(ticker, ticks, 2ms);
    troupe::Timer timer = system.send_every(tick, 2ms, Tick{});
    system.spawn(hog, hogs).send(Hog{300ms});
    REQUIRE(eventually([&] { return hogs->started.load() == 1; }));
    const auto held_from = Clock::now();
    REQUIRE(eventually([&] { return hogs->finished.load() == 1; }, 30s));
    const auto held_until = Clock::now();
    timer.cancel();
    std::lock_guard lock(ticks->mutex);
    // Ticks handled strictly inside the hog's turn: none (the one worker is held).
    const auto inside = std::count_if(ticks->handled_at.begin(), ticks->handled_at.end(),
                                      [&](Clock::time_point t) { return t > held_from + 5ms && t < held_until - 5ms; });
    CHECK(inside == 0);
    const troupe::runtime::SchedulerStats stats = system.scheduler_stats();
    CHECK(stats.stuck_turns == 0);
    CHECK(stats.compensating_started == 0);
  }

  TEST_CASE("a system stopped while a compensating worker runs shuts down; deterministic mode has no net") {
    {
      troupe::System system(guarded(1, std::make_shared<Reports>()));
      auto hogs = std::make_shared<Hogs>(1);
      system.spawn(hog, hogs).send(Hog{200ms});
      REQUIRE(eventually([&] { return system.scheduler_stats().compensating_now == 1; }));
    }  // the destructor waits for the hog's turn, then stops the pool, the watchdog and the compensator
    troupe::System deterministic(troupe::Config{.deterministic = troupe::DeterministicMode{.seed = 1}});
    auto hogs = std::make_shared<Hogs>(1);
    deterministic.spawn(hog, hogs).send(Hog{30ms});
    deterministic.wait_idle();
    CHECK(hogs->finished.load() == 1);
    const troupe::runtime::SchedulerStats stats = deterministic.scheduler_stats();
    CHECK(stats.stuck_turns == 0);
    CHECK(stats.compensating_started == 0);
  }
}
