// Shared by the link and monitor tests: the messages, and Recorder, an actor that does what it
// is told and records what it sees.
#pragma once

#include <troupe/troupe.hpp>

#include "actors/exit_log.hpp"
#include "event_log.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace troupe_test;

namespace {

struct Fail {};
struct QuitWith {
  troupe::ExitReason reason;
};
struct Ping {};
struct Block {};
struct LinkTo {
  troupe::DynamicHandle target;
};
struct UnlinkFrom {
  troupe::DynamicHandle target;
};
struct MonitorIt {
  troupe::DynamicHandle target;
};
struct DemonitorIt {};
struct ExitIt {
  troupe::DynamicHandle target;
  troupe::ExitReason reason;
};
struct Count {
  using reply_type = int;
};
struct AskSlow {
  troupe::DynamicHandle slow;
};

// What a Recorder saw, readable from the test thread: its events (EventLog's add, all, count),
// and the Down and Exit signals whole, under `mutex`.
struct Events : EventLog {
  std::mutex mutex;
  std::vector<troupe::Down> downs;
  std::vector<troupe::Exit> exits;
  std::atomic<bool> release{false};
  std::atomic<int> blocked{0};  // Block handlers entered
};

// An actor that does what it is told and records what it sees.
class Recorder {
 public:
  Recorder(troupe::Context& self, std::shared_ptr<Events> events, bool trap = false)
      : self_(self), events_(std::move(events)) {
    self_.trap_exits(trap);
  }
  auto behavior() {
    return troupe::behavior([this](Fail) { throw std::runtime_error("boom"); },  //
                            [this](QuitWith q) { self_.quit(q.reason); }, [this](Ping) { events_->add("ping"); },
                            [this](Block) {
                              events_->blocked.fetch_add(1);
                              while (!events_->release.load())
                                std::this_thread::sleep_for(std::chrono::milliseconds(1));
                            },
                            [this](LinkTo l) { self_.link(l.target); },        //
                            [this](UnlinkFrom u) { self_.unlink(u.target); },  //
                            [this](MonitorIt m) { ref_ = self_.monitor(m.target); },
                            [this](DemonitorIt) { self_.demonitor(ref_); },
                            [this](ExitIt e) { self_.exit(e.target, e.reason); },
                            [this](Count) { return static_cast<int>(events_->all().size()); },
                            [this](AskSlow a) -> troupe::Task<void> {
                              auto reply = co_await self_.request<int>(a.slow, Count{}, 20s);
                              events_->add(reply.ok() ? "answered" : "failed");
                            },
                            [this](const troupe::Down& d) {
                              {
                                std::lock_guard lock(events_->mutex);
                                events_->downs.push_back(d);
                              }
                              events_->add("down");
                            },
                            [this](const troupe::Exit& e) {
                              {
                                std::lock_guard lock(events_->mutex);
                                events_->exits.push_back(e);
                              }
                              events_->add("exit");
                            });
  }

 private:
  troupe::Context& self_;
  std::shared_ptr<Events> events_;
  troupe::MonitorRef ref_;
};

troupe::Down expect_down(troupe::ScopedActor& me) {
  auto down = me.receive<troupe::Down>(10s);
  REQUIRE(down.ok());
  return std::move(down).value();
}

}  // namespace
