// The event-loop model: its coroutine tasks on one kj loop get every workload right on small
// sizes, keep every io request in flight at once on their one thread, take turns only where they
// await, and hand a task's failure to whoever runs the loop.
#include <doctest/doctest.h>

#include <kj/async-io.h>
#include <kj/debug.h>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "event_loop.hpp"
#include "latency_server.hpp"
#include "models.hpp"
#include "test_support.hpp"

using namespace contrast;

namespace {

Params small_params() {
  Params p;
  p.cpu_first = 20'000;
  p.counter_workers = 4;
  p.counter_increments = troupe_test::scaled(50'000);
  p.bank_workers = 3;
  p.bank_accounts = 10;
  p.bank_transfers = troupe_test::scaled(20'000);
  p.io_requests = 24;
  p.io_concurrency = 6;
  return p;
}

EventLoop::Task record(std::vector<std::string>& log, std::string name, int steps) {
  for (int i = 0; i < steps; ++i) {
    log.push_back(name + std::to_string(i));
    co_await EventLoop::yield();
  }
}

EventLoop::Task fail_after_await() {
  co_await EventLoop::yield();
  throw std::runtime_error("the task failed");
}

EventLoop::Task await_broken_promise(std::string& caught) {
  try {
    co_await kj::Promise<int>(KJ_EXCEPTION(FAILED, "the promise broke"));
  } catch (const std::runtime_error& e) {
    caught = e.what();
  }
}

EventLoop::Task wait_for(EventLoop& loop, kj::Duration delay, std::vector<int>& order, int id) {
  co_await loop.timer().afterDelay(delay);
  order.push_back(id);
}

}  // namespace

TEST_CASE("the event-loop model gets cpu, counter, bank and io right on small sizes") {
  LatencyServer server(std::chrono::milliseconds(1));
  Params p = small_params();
  p.io_port = server.port();
  for (Workload w : {Workload::cpu, Workload::counter, Workload::bank, Workload::io}) {
    CAPTURE(std::string(to_string(w)));
    const std::optional<Outcome> outcome = run_event_loop(w, p);
    REQUIRE(outcome.has_value());
    CAPTURE(outcome->detail);
    CHECK(outcome->correct);
  }
}

TEST_CASE("the event loop keeps every io request in flight at once on its one thread") {
  // 12 tasks, one request each: had a task blocked the thread while it waited, the server would
  // never see more than one request at a time. The server answers once all 12 are in (an event,
  // not a clock); the 10 s latency only bounds a failing test.
  LatencyServer server(std::chrono::seconds(10), 12);
  Params p = small_params();
  p.io_requests = 12;
  p.io_concurrency = 12;
  p.io_port = server.port();
  const std::optional<Outcome> outcome = run_event_loop(Workload::io, p);
  REQUIRE(outcome.has_value());
  CHECK(outcome->correct);
  CHECK(server.max_in_flight() == 12);
}

TEST_CASE("event-loop tasks take turns only where they await") {
  EventLoop loop;
  std::vector<std::string> log;
  loop.spawn(record(log, "a", 3));
  loop.spawn(record(log, "b", 3));
  CHECK(log.empty());  // spawned tasks start inside run(), not before
  loop.run();
  CHECK(log == std::vector<std::string>{"a0", "b0", "a1", "b1", "a2", "b2"});
}

TEST_CASE("event-loop tasks resume on the loop's thread when their timers fire, in time order") {
  EventLoop loop;
  std::vector<int> order;
  loop.spawn(wait_for(loop, 20 * kj::MILLISECONDS, order, 2));
  loop.spawn(wait_for(loop, 1 * kj::MILLISECONDS, order, 1));
  loop.run();
  CHECK(order == std::vector<int>{1, 2});
}

TEST_CASE("a task's exception ends the loop's run; a broken promise throws inside the task") {
  {
    EventLoop loop;
    loop.spawn(fail_after_await());
    CHECK_THROWS_WITH_AS(loop.run(), "the task failed", std::runtime_error);
  }
  EventLoop loop;
  std::string caught;
  loop.spawn(await_broken_promise(caught));
  loop.run();
  CHECK(caught.find("the promise broke") != std::string::npos);
}

TEST_CASE("an unfinished task is destroyed with its loop") {
  // One task awaits a promise nothing fulfils; the other fails, which ends run() with the first
  // still suspended. The loop's destructor cancels what it awaits and frees its frame (the
  // sanitizers check that nothing leaks or is touched after it is freed).
  auto never = []() -> EventLoop::Task {
    auto paf = kj::newPromiseAndFulfiller<void>();
    co_await kj::mv(paf.promise);
  };
  EventLoop loop;
  loop.spawn(never());
  loop.spawn(fail_after_await());
  CHECK_THROWS_AS(loop.run(), std::runtime_error);
}
