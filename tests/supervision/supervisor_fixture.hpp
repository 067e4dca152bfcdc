// Shared by the supervisor tests: Worker, a child that records its start (on the supervisor's
// turn, so in start order) and its stop (as its state is destroyed, before its exit is sent) in
// a shared Log; and a ScopedActor that hears about every restart.
#pragma once

#include <troupe/troupe.hpp>

#include "actors/exit_log.hpp"
#include "event_log.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace troupe_test;

namespace {

struct Crash {};
struct QuitNormally {};
struct WhoAreYou {
  using reply_type = std::string;
};

using Log = troupe_test::EventLog;

class Worker {
 public:
  // trap: traps exits and ignores them (an exit(shutdown) does not stop it; a kill does).
  Worker(troupe::Context& self, std::shared_ptr<Log> log, std::string id, bool trap)
      : self_(self), log_(std::move(log)), id_(std::move(id)) {
    self_.trap_exits(trap);
  }
  ~Worker() { log_->add("stop:" + id_); }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  auto behavior() {
    return troupe::behavior([](Crash) { throw std::runtime_error("crashed on purpose"); },
                            [this](QuitNormally) { self_.quit(); },  //
                            [this](WhoAreYou) { return id_; },
                            [this](const troupe::Exit&) { log_->add("refused:" + id_); });
  }

 private:
  troupe::Context& self_;
  std::shared_ptr<Log> log_;
  std::string id_;
};

// A Worker child whose start is logged ("start:<id>") on the supervisor's turn.
inline troupe::ChildSpec worker(std::shared_ptr<Log> log, const std::string& id, bool trap = false) {
  auto spec = troupe::child<Worker>(id, log, id, trap);
  spec.start = [log, id, start = std::move(spec.start)](troupe::Context& self) {
    log->add("start:" + id);
    return start(self);
  };
  return spec;
}

// What on_restart reported, sent to a ScopedActor.
struct Restarted {
  std::string child;
  std::string failed;
  troupe::ExitReason reason;
  std::size_t restarts;
};

inline troupe::SupervisorSpec reporting(troupe::SupervisorSpec spec, troupe::ScopedActor& me) {
  spec.on_restart = [to = me.handle()](const troupe::RestartEvent& e) {
    to.send(Restarted{std::string(e.child), std::string(e.failed), e.reason, e.restarts});
  };
  return spec;
}

inline Restarted expect_restart(troupe::ScopedActor& me) {
  auto r = me.receive<Restarted>(10s);
  REQUIRE(r.ok());
  return std::move(r).value();
}

inline std::vector<troupe::ChildInfo> children_of(troupe::ScopedActor& me, const troupe::SupervisorHandle& sup) {
  auto infos = troupe::which_children(me, sup, 10s);
  REQUIRE(infos.ok());
  return std::move(infos).value();
}

inline troupe::ChildInfo info_of(troupe::ScopedActor& me, const troupe::SupervisorHandle& sup, const std::string& id) {
  for (auto& c : children_of(me, sup)) {
    if (c.id == id) return c;
  }
  FAIL("no child " << id);
  return {};
}

// Crashes child `id` and waits until it has stopped (its Down), so its supervisor has its exit
// queued ahead of any later request (signals overtake messages).
inline void crash(troupe::ScopedActor& me, const troupe::SupervisorHandle& sup, const std::string& id) {
  auto h = info_of(me, sup, id).handle;
  REQUIRE(h.valid());
  me.monitor(h);
  h.send(Crash{});
  auto down = me.receive<troupe::Down>(10s);
  REQUIRE(down.ok());
  CHECK(down->actor == h);
}

using Events = std::vector<std::string>;

}  // namespace
