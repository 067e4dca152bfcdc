// Urgent messages (DynamicHandle::send_urgent): handled before the messages queued ahead of them,
// in their own order among themselves; set aside first while a coroutine awaits; counted by a
// bounded mailbox like any other. Deterministic mode (one thread, exact orders) but for the
// threaded case at the end.
#include <troupe/testing.hpp>
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

struct Job {
  int n;
};
struct Cancel {
  int n;
};
struct Wait {};  // starts a coroutine that awaits a request to `Slow`
struct Slow {
  using reply_type = int;
};
struct Quit {};
struct Health {  // answered with how many Jobs were handled before it
  using reply_type = int;
};
struct AskThen {};   // the asker's request, continued with then()
struct AskAwait {};  // the asker's request, awaited by a coroutine

using Log = std::vector<std::string>;

// "j3", "c1": what a log records.
std::string tag(char what, int n) {
  std::string s(1, what);
  s += std::to_string(n);
  return s;
}

// Records each Job and Cancel it handles ("j3", "c1"); Wait awaits a reply from `slow` ("w7"). The
// cases drive it with advance_time() while the coroutine awaits: wait_idle() would fire its
// request's timeout in virtual time.
auto recorder(troupe::System& system, std::shared_ptr<Log> log, troupe::DynamicHandle slow = {},
              troupe::SpawnOptions options = {}) {
  return system.spawn(options, [log, slow](troupe::Context& self) {
    return troupe::behavior([log](Job j) { log->push_back(tag('j', j.n)); },
                            [log](Cancel c) { log->push_back(tag('c', c.n)); },
                            [log, slow, &self](Wait) -> troupe::Task<void> {
                              auto r = co_await self.request<int>(slow, Slow{}, 10s);
                              log->push_back(tag('w', r.value_or(-1)));
                            },
                            [&self](Quit) { self.quit(); });
  });
}

// Records each Job ("j3") and Health ("h") it handles; answers Health with how many Jobs came
// before it.
auto health_server(troupe::System& system, std::shared_ptr<Log> log) {
  return system.spawn([log](troupe::Context&) {
    auto jobs = std::make_shared<int>(0);
    return troupe::behavior([log, jobs](Job j) { log->push_back(tag('j', j.n)), ++*jobs; },
                            [log, jobs](Health) {
                              log->push_back("h");
                              return *jobs;
                            });
  });
}

// An actor that answers Slow only when the test calls deliver() on the promise it hands back.
struct SlowReplier {
  troupe::DynamicHandle handle;
  std::shared_ptr<troupe::Promise<int>> reply;
};
SlowReplier slow_replier(troupe::System& system) {
  auto reply = std::make_shared<troupe::Promise<int>>();
  auto handle = system.spawn([reply](troupe::Context& self) {
    return troupe::behavior([reply, &self](Slow) {
      *reply = self.promise<int>();
      return *reply;
    });
  });
  return {handle, reply};
}

// Holds a threaded actor in its Job 0 until the test opens the gate, so that what the test sends
// meanwhile is all queued when the actor's next turn starts.
struct Gate {
  std::atomic<bool> entered{false}, open{false};
  // Sends Job 0 and waits until the actor is inside it.
  template <class H>
  bool hold(const H& actor) {
    actor.send(Job{0});
    return troupe_test::eventually([this] { return entered.load(std::memory_order_acquire); });
  }
};

// recorder() for the threaded cases: held by `gate` in Job 0, one message a turn (a turn under
// way ends before the next takes the urgent ones).
auto gated_recorder(troupe::System& system, std::shared_ptr<Log> log, Gate& gate) {
  troupe::SpawnOptions one_a_turn;
  one_a_turn.budget = 1;
  return system.spawn(one_a_turn, [log, &gate](troupe::Context&) {
    return troupe::behavior(
        [log, &gate](Job j) {
          if (j.n == 0) {
            gate.entered.store(true, std::memory_order_release);
            while (!gate.open.load(std::memory_order_acquire)) std::this_thread::yield();
          }
          log->push_back(tag('j', j.n));
        },
        [log](Cancel c) { log->push_back(tag('c', c.n)); });
  });
}

}  // namespace

TEST_SUITE("urgent messages") {
  TEST_CASE("an urgent message goes before the messages queued ahead of it; urgent ones keep their order") {
    troupe::System system(troupe::testing::deterministic(1));
    auto log = std::make_shared<Log>();
    auto actor = recorder(system, log);
    for (int i = 1; i <= 3; ++i) CHECK(actor.send(Job{i}).ok());
    CHECK(actor.send_urgent(Cancel{1}).ok());
    CHECK(actor.send(Job{4}).ok());
    CHECK(actor.send_urgent(Cancel{2}).ok());
    system.wait_idle();
    CHECK(*log == Log{"c1", "c2", "j1", "j2", "j3", "j4"});

    // Queued behind messages already set aside by the first overtaking, it still goes first.
    log->clear();
    for (int i = 1; i <= 2; ++i) actor.send(Job{i});
    actor.send_urgent(Cancel{1});
    system.wait_idle();
    CHECK(*log == Log{"c1", "j1", "j2"});
  }

  TEST_CASE("urgent messages and a link's exit overtake in the order they came") {
    troupe::System system(troupe::testing::deterministic(2));
    auto log = std::make_shared<Log>();
    auto actor = system.spawn([log](troupe::Context& self) {
      self.trap_exits();
      return troupe::behavior([log](Job j) { log->push_back(tag('j', j.n)); },
                              [log](Cancel c) { log->push_back(tag('c', c.n)); },
                              [log](const troupe::Exit&) { log->push_back("exit"); });
    });
    system.wait_idle();  // constructed: trapping
    // One turn of another actor queues all four, in this order, before `actor` runs again.
    auto sender = system.spawn([actor](troupe::Context& self) {
      return troupe::behavior([actor, &self](int) {
        actor.send(Job{1});
        actor.send_urgent(Cancel{1});
        self.exit(actor, troupe::ExitReason::error("told to"));
        actor.send_urgent(Cancel{2});
      });
    });
    sender.send(0);
    system.wait_idle();
    CHECK(*log == Log{"c1", "exit", "c2", "j1"});
  }

  TEST_CASE("while a coroutine awaits, an urgent message waits first in line, before the messages set aside") {
    troupe::System system(troupe::testing::deterministic(3));
    auto log = std::make_shared<Log>();
    auto [slow, replier] = slow_replier(system);
    auto actor = recorder(system, log, slow);
    actor.send(Wait{});
    system.advance_time(1ms);  // the coroutine awaits
    actor.send(Job{1});
    actor.send(Job{2});
    system.advance_time(1ms);  // both set aside
    actor.send_urgent(Cancel{1});
    actor.send(Job{3});
    system.advance_time(1ms);
    CHECK_MESSAGE(log->empty(), log->front());
    replier->deliver(7);
    system.wait_idle();
    CHECK(*log == Log{"w7", "c1", "j1", "j2", "j3"});
  }

  TEST_CASE("a proxy that forwards an urgent message passes it on urgent") {
    troupe::System system(troupe::testing::deterministic(7));
    auto log = std::make_shared<Log>();
    auto [slow, replier] = slow_replier(system);
    auto actor = recorder(system, log, slow);
    troupe::DynamicHandle proxy = system.spawn([actor](troupe::Context&) {
      return troupe::behavior(troupe::others([actor](troupe::AnyMessage& m) { m.forward(actor); }));
    });
    actor.send(Wait{});
    system.advance_time(1ms);  // the coroutine awaits: what comes now is set aside
    actor.send(Job{1});
    proxy.send_urgent(Cancel{1});
    proxy.send(Cancel{2});
    system.advance_time(1ms);
    replier->deliver(5);
    system.wait_idle();
    CHECK(*log == Log{"w5", "c1", "j1", "c2"});
  }

  TEST_CASE("a bounded mailbox counts urgent messages, and takes them off its count once handled") {
    troupe::System system(troupe::testing::deterministic(4));
    auto log = std::make_shared<Log>();
    auto [slow, replier] = slow_replier(system);
    troupe::SpawnOptions options;
    options.mailbox_capacity = 4;
    options.overflow = troupe::Overflow::fail;
    auto actor = recorder(system, log, slow, options);
    CHECK(actor.send(Wait{}).ok());
    system.advance_time(1ms);  // the coroutine awaits; the mailbox counts nothing now
    for (int i = 1; i <= 2; ++i) CHECK(actor.send(Job{i}).ok());
    for (int i = 1; i <= 2; ++i) CHECK(actor.send_urgent(Cancel{i}).ok());
    CHECK(actor.send_urgent(Cancel{3}).code() == troupe::Errc::mailbox_full);  // 4 of 4
    CHECK(actor.send(Job{3}).code() == troupe::Errc::mailbox_full);
    system.advance_time(1ms);  // set aside while the coroutine awaits: the urgent first
    replier->deliver(1);
    system.wait_idle();
    CHECK(*log == Log{"w1", "c1", "c2", "j1", "j2"});
    // Every one of them left the count: the mailbox takes 4 again, urgent or not, and no more.
    log->clear();
    for (int i = 1; i <= 2; ++i) CHECK(actor.send(Job{i}).ok());
    for (int i = 1; i <= 2; ++i) CHECK(actor.send_urgent(Cancel{i}).ok());
    CHECK(actor.send_urgent(Cancel{3}).code() == troupe::Errc::mailbox_full);
    system.wait_idle();
    CHECK(*log == Log{"c1", "c2", "j1", "j2"});
    for (int i = 1; i <= 4; ++i) CHECK(actor.send_urgent(Cancel{i}).ok());
    CHECK(actor.send(Job{5}).code() == troupe::Errc::mailbox_full);
    system.wait_idle();
  }

  TEST_CASE("an urgent message behind one that stops the actor is a dead letter") {
    troupe::System system(troupe::testing::deterministic(5));
    auto log = std::make_shared<Log>();
    troupe::SpawnOptions options;
    options.mailbox_capacity = 2;
    options.overflow = troupe::Overflow::fail;
    auto actor = recorder(system, log, {}, options);
    system.wait_idle();
    CHECK(actor.send_urgent(Quit{}).ok());
    CHECK(actor.send_urgent(Cancel{1}).ok());
    system.wait_idle();
    CHECK(log->empty());
    CHECK(system.dead_letters() == 1);
    CHECK(system.live_actors() == 0);
  }

  TEST_CASE("an urgent request is answered before the messages queued ahead of it, from then() or co_await") {
    troupe::System system(troupe::testing::deterministic(6));
    auto log = std::make_shared<Log>();
    auto server = health_server(system, log);
    auto answers = std::make_shared<std::vector<int>>();
    // Each ask queues two Jobs, then the urgent request, in one turn: the server has not run between.
    auto asker = system.spawn([server, answers](troupe::Context& self) {
      return troupe::behavior(
          [server, answers, &self](AskThen) {
            server.send(Job{1});
            server.send(Job{2});
            self.request<int>(server, Health{})
                .urgent()
                .then([answers](int n) { answers->push_back(n); }, [](const troupe::Error&) {});
          },
          [server, answers, &self](AskAwait) -> troupe::Task<void> {
            server.send(Job{3});
            server.send(Job{4});
            auto n = co_await self.request<int>(server, Health{}).urgent();
            answers->push_back(n.value_or(-1));
          });
    });
    asker.send(AskThen{});
    system.wait_idle();
    asker.send(AskAwait{});
    system.wait_idle();
    CHECK(*answers == std::vector<int>{0, 2});
    CHECK(*log == Log{"h", "j1", "j2", "h", "j3", "j4"});
  }

  TEST_CASE(
      "a thread's urgent request (ScopedActor::request_urgent) is answered before the messages queued ahead of it") {
    troupe::System system(troupe::testing::deterministic(7));
    auto log = std::make_shared<Log>();
    auto server = health_server(system, log);
    troupe::ScopedActor me(system);
    server.send(Job{1});
    server.send(Job{2});
    CHECK(me.request_urgent<int>(server, Health{}, 10s).value_or(-1) == 0);
    CHECK(me.request<int>(server, Health{}, 10s).value_or(-1) == 2);  // a plain one waits its turn
    CHECK(*log == Log{"h", "j1", "j2", "h"});
  }

  TEST_CASE("threaded: a proxy's forward of an urgent message overtakes what the target has queued") {
    troupe::System system(troupe::Config{.workers = 2});
    Gate gate;
    std::atomic<bool> forwarded{false};
    auto log = std::make_shared<Log>();
    auto target = gated_recorder(system, log, gate);
    troupe::DynamicHandle proxy = system.spawn([target, &forwarded](troupe::Context&) {
      return troupe::behavior(troupe::others([target, &forwarded](troupe::AnyMessage& m) {
        m.forward(target);
        forwarded.store(true, std::memory_order_release);
      }));
    });
    REQUIRE(gate.hold(target));
    for (int i = 1; i <= 3; ++i) target.send(Job{i});
    proxy.send_urgent(Cancel{1});
    REQUIRE(troupe_test::eventually([&] { return forwarded.load(std::memory_order_acquire); }));
    gate.open.store(true, std::memory_order_release);
    REQUIRE(system.wait_idle(30s));
    CHECK(*log == Log{"j0", "c1", "j1", "j2", "j3"});
  }

  TEST_CASE("threaded: a cancel overtakes the work queued ahead of it") {
    troupe::System system(troupe::Config{.workers = 2});
    Gate gate;
    auto log = std::make_shared<Log>();
    auto actor = gated_recorder(system, log, gate);
    REQUIRE(gate.hold(actor));
    const int jobs = 1000;
    for (int i = 1; i <= jobs; ++i) actor.send(Job{i});
    actor.send_urgent(Cancel{1});
    gate.open.store(true, std::memory_order_release);
    REQUIRE(system.wait_idle(30s));
    REQUIRE(log->size() == static_cast<std::size_t>(jobs) + 2);
    // Job 0 was under way; the cancel came next, ahead of the thousand queued before it.
    CHECK((*log)[0] == "j0");
    CHECK((*log)[1] == "c1");
    CHECK((*log)[2] == "j1");
    CHECK(log->back() == tag('j', jobs));
  }
}
