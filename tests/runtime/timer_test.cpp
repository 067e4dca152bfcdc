// Timers: never early, on time within a generous bound, periodic until cancelled.
#include <troupe/runtime/timer_service.hpp>
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

using namespace troupe_test;
using troupe::runtime::TimerService;
using troupe::runtime::TimerTask;

namespace {

// How late a timer may fire: far above what it takes (a few ms), because a loaded CI machine
// under a sanitizer can stall for seconds. The bound is still worth having: it is far below the
// 1 h timer each test keeps pending beside its own, so a timer thread that slept until the
// wrong (latest) deadline, or until the next wake-up of some other kind, would fail it.
constexpr auto kLate = 20s;

// Records when it fired, and in which order among its siblings.
class Recorder final : public TimerTask {
 public:
  struct Log {
    std::mutex mutex;
    std::vector<std::pair<int, Clock::time_point>> fired;
    std::size_t size() {
      std::lock_guard lock(mutex);
      return fired.size();
    }
  };
  Recorder(Log& log, int id) : log_(log), id_(id) {}
  void fire() noexcept override {
    std::lock_guard lock(log_.mutex);
    log_.fired.emplace_back(id_, Clock::now());
  }

 private:
  Log& log_;
  int id_;
};

struct Tick {
  int n;
};

// Cancels a timer however the test ends: a pending one-shot timer would hold the system's
// destructor (it waits until idle) for as long as the timer has left.
template <class Timer>
struct CancelAtEnd {
  Timer timer;
  ~CancelAtEnd() { timer.cancel(); }
};
template <class Timer>
CancelAtEnd(Timer) -> CancelAtEnd<Timer>;

}  // namespace

TEST_SUITE("timers") {
  TEST_CASE("TimerService: one-shot timers fire once, in due order, not before due") {
    // Scheduled out of due order, 40 ms apart: a stall of this thread of 40 ms between the calls
    // would reorder their dues themselves, so a try whose calls took that long is made again.
    for (int attempt = 1;; ++attempt) {
      TimerService timers;
      Recorder::Log log;
      const auto start = Clock::now();
      auto far = timers.run_after(1h, std::make_unique<Recorder>(log, 99));  // see kLate
      timers.run_after(120ms, std::make_unique<Recorder>(log, 3));
      auto first = timers.run_after(40ms, std::make_unique<Recorder>(log, 1));
      timers.run_after(80ms, std::make_unique<Recorder>(log, 2));
      if (Clock::now() - start >= 40ms && attempt < 5) {
        MESSAGE("this thread stalled while scheduling; trying again");
        continue;
      }
      CHECK(first.active());
      CHECK(timers.pending() == 4);
      // A fourth timer, due after the three: one thread fires them in due order, so once it has
      // fired, none of the three can still fire (again).
      timers.run_after(160ms, std::make_unique<Recorder>(log, 4));
      REQUIRE(eventually([&] { return log.size() == 4; }, kLate));
      std::lock_guard lock(log.mutex);
      REQUIRE(log.fired.size() == 4);  // each fired exactly once
      const std::chrono::milliseconds due[] = {40ms, 80ms, 120ms, 160ms};
      for (int i = 0; i < 4; ++i) {
        CHECK(log.fired[i].first == i + 1);
        CHECK(log.fired[i].second - start >= due[i]);
        CHECK(log.fired[i].second - start <= due[i] + kLate);
      }
      CHECK_FALSE(first.active());
      CHECK_FALSE(first.cancel());  // already fired
      CHECK(timers.pending() == 1);
      CHECK(far.cancel());
      break;
    }
  }

  TEST_CASE("TimerService: a cancelled timer never fires; cancel reports who won") {
    TimerService timers;
    Recorder::Log log;
    auto t = timers.run_after(60ms, std::make_unique<Recorder>(log, 1));
    auto copy = t;  // copies share the timer
    CHECK(t.cancel());
    CHECK_FALSE(copy.cancel());
    CHECK_FALSE(t.active());
    CHECK_FALSE(copy.active());
    TimerService::Handle empty;
    CHECK_FALSE(empty.cancel());
    CHECK_FALSE(empty.active());
    // A later timer: timers fire in due order, so once it has, the cancelled one would have.
    timers.run_after(120ms, std::make_unique<Recorder>(log, 2));
    REQUIRE(eventually([&] { return log.size() == 1; }));
    std::lock_guard lock(log.mutex);
    CHECK(log.fired.at(0).first == 2);
  }

  TEST_CASE("TimerService: close() cancels pending timers and every later one") {
    // On the manual clock, so "never fires" is checked by moving time past every due time.
    TimerService timers{TimerService::ManualClock{}};
    Recorder::Log log;
    auto pending = timers.run_after(50ms, std::make_unique<Recorder>(log, 1));
    timers.close();
    CHECK_FALSE(pending.active());
    auto late = timers.run_after(1ms, std::make_unique<Recorder>(log, 2));
    CHECK_FALSE(late.active());
    CHECK(timers.pending() == 0);
    CHECK_FALSE(timers.fire_next(timers.now() + 1h));
    CHECK(log.size() == 0);
  }

  TEST_CASE("TimerService: cancelled timers do not pile up (a cancelled one-shot frees its task)") {
    // Every request arms a timeout that its reply cancels: a busy system must not keep them all.
    TimerService timers;
    struct Counted final : TimerTask {
      explicit Counted(std::atomic<int>& alive) : alive_(alive) { alive_.fetch_add(1); }
      ~Counted() override { alive_.fetch_sub(1); }
      void fire() noexcept override {}
      std::atomic<int>& alive_;
    };
    std::atomic<int> alive{0};
    for (int i = 0; i < 20000; ++i) timers.run_after(1h, std::make_unique<Counted>(alive)).cancel();
    CHECK(alive.load() == 0);        // each task went with its cancel
    CHECK(timers.pending() < 2048);  // the heap compacted as cancels piled up
    auto live = timers.run_after(1h, std::make_unique<Counted>(alive));
    CHECK(alive.load() == 1);
    CHECK(live.active());
  }

  TEST_CASE("send_after: delivered not before due, within a generous bound") {
    troupe::System system(troupe::Config{.workers = 2});
    troupe::ScopedActor me(system);
    CancelAtEnd far{system.send_after(me.handle(), 1h, Tick{99})};  // see kLate
    for (auto delay : {20ms, 100ms}) {
      CAPTURE(delay.count());
      const auto start = Clock::now();
      auto timer = system.send_after(me.handle(), delay, Tick{7});
      auto tick = me.receive<Tick>(2 * kLate);
      const auto elapsed = Clock::now() - start;
      REQUIRE(tick.ok());
      CHECK(tick->n == 7);
      CHECK(elapsed >= delay);
      CHECK(elapsed <= delay + kLate);
      CHECK_FALSE(timer.active());
    }
    // Many at once, due in reverse order of scheduling: delivered in due order. A stall of this
    // thread of 15 ms between the calls would reorder their dues themselves, so a try whose calls
    // took that long is made again.
    for (int attempt = 1;; ++attempt) {
      const auto scheduling = Clock::now();
      for (int i = 5; i >= 1; --i) system.send_after(me.handle(), i * 15ms, Tick{i});
      const bool prompt = Clock::now() - scheduling < 15ms;
      std::vector<int> order;
      for (int i = 1; i <= 5; ++i) {
        auto tick = me.receive<Tick>(5s);
        REQUIRE(tick.ok());
        order.push_back(tick->n);
      }
      if (!prompt && attempt < 5) continue;
      CHECK(order == std::vector<int>{1, 2, 3, 4, 5});
      break;
    }
    CHECK(far.timer.active());  // still pending: it never came in the way
  }

  TEST_CASE("send_after from an actor; a cancelled send_after is never delivered") {
    troupe::System system(troupe::Config{.workers = 2});
    troupe::ScopedActor me(system);
    struct Arm {
      troupe::DynamicHandle reply_to;
    };
    auto actor = system.spawn([](troupe::Context& self) {
      return troupe::behavior([&self](Arm a) { self.send_after(a.reply_to, 30ms, Tick{1}); });
    });
    const auto start = Clock::now();
    actor.send(Arm{me.handle()});
    auto tick = me.receive<Tick>(5s);
    REQUIRE(tick.ok());
    CHECK(ms_since(start) >= 30ms);

    auto cancelled = system.send_after(me.handle(), 50ms, Tick{2});
    CHECK(cancelled.cancel());
    // A later one comes first: timers fire in due order, so the cancelled one would have come.
    system.send_after(me.handle(), 100ms, Tick{3});
    auto next = me.receive<Tick>(5s);
    REQUIRE(next.ok());
    CHECK(next->n == 3);
    CHECK(system.wait_idle(5s));  // a cancelled one-shot timer no longer holds the system busy
  }

  TEST_CASE("send_every: repeats at its period until cancelled, then stops") {
    troupe::System system(troupe::Config{.workers = 2});
    troupe::ScopedActor me(system);
    const auto period = 20ms;
    const auto start = Clock::now();
    auto timer = system.send_every(me.handle(), period, Tick{0});
    constexpr int kTicks = 5;
    for (int i = 0; i < kTicks; ++i) REQUIRE(me.receive<Tick>(5s).ok());
    CHECK(Clock::now() - start >= kTicks * period);
    CHECK(timer.active());
    CHECK(timer.cancel());
    CHECK_FALSE(timer.active());
    // Ticks that came before the cancel (as many as this thread fell behind) are not late; at
    // most one may have been on its way as we cancelled; after that, silence.
    while (me.receive<Tick>(0ms).ok()) {
    }
    int late = 0;
    while (me.receive<Tick>(100ms).ok()) ++late;
    CHECK(late <= 1);
    CHECK(me.receive<Tick>(200ms).code() == troupe::Errc::timeout);
    // Periodic timers do not keep the system busy.
    auto again = system.send_every(me.handle(), 1h, Tick{0});
    CHECK(system.wait_idle(5s));
    CHECK(again.cancel());
  }

}  // TEST_SUITE
