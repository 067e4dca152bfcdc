// Shared by the process group tests: members that stop or fail on demand, a recorder of notes, a
// watcher that relays group events to a ScopedActor, and the events as text.
#pragma once

#include <troupe/group_origins.hpp>
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace groups_test {

using namespace troupe_test;

struct Stop {};
struct Boom {};
struct Note {
  int sender;
  int seq;
};
struct GetNotes {
  using reply_type = std::vector<Note>;
};

inline auto member(troupe::Context& self) {
  return troupe::behavior([&self](Stop) { self.quit(); }, [](Boom) { throw std::runtime_error("boom"); });
}

// Keeps every Note it gets, in order.
class Recorder {
 public:
  auto behavior() {
    return troupe::behavior([this](const Note& n) { notes_.push_back(n); }, [this](GetNotes) { return notes_; });
  }

 private:
  std::vector<Note> notes_;
};

// A watcher: hands every group event on to `to` (a ScopedActor), in the order it got them.
inline auto relay(troupe::Context& self, troupe::DynamicHandle to) {
  return troupe::behavior([to](troupe::GroupMembers m) { to.send(std::move(m)); },
                          [to](troupe::GroupJoined m) { to.send(std::move(m)); },
                          [to](troupe::GroupLeft m) { to.send(std::move(m)); }, [&self](Stop) { self.quit(); });
}

// Two workers, and no log of the failures the tests cause on purpose.
inline troupe::Config quiet_config() {
  troupe::Config config{.workers = 2};
  config.on_actor_exit = [](const troupe::ExitInfo&) {};
  return config;
}

using Names = std::map<troupe::DynamicHandle, std::string>;

inline std::string listed(const Names& names, const std::vector<troupe::DynamicHandle>& handles) {
  std::string out;
  for (const troupe::DynamicHandle& h : handles) {
    if (!out.empty()) out += ',';
    auto it = names.find(h);
    out += it == names.end() ? std::string("?") : it->second;
  }
  return out;
}

// The next group event `me` receives, as text: "members g: a,b", "joined g: a", "left g: a".
inline std::string next_event(troupe::ScopedActor& me, const Names& names) {
  std::string out;
  auto text = [&](const char* kind, const std::string& group, const std::vector<troupe::DynamicHandle>& who) {
    out = kind;
    out += ' ';
    out += group;
    out += ": ";
    out += listed(names, who);
  };
  troupe::Result<void> got =
      me.receive(troupe::behavior([&](const troupe::GroupMembers& m) { text("members", m.group, m.members); },
                                  [&](const troupe::GroupJoined& m) { text("joined", m.group, m.members); },
                                  [&](const troupe::GroupLeft& m) { text("left", m.group, m.members); }),
                 10s);
  return got ? out : std::string("timeout");
}

// Stops `actor` with `stop` and waits until it has stopped (the Down comes after the groups have
// dropped it).
template <class M>
void stop_and_wait(troupe::ScopedActor& me, const troupe::DynamicHandle& actor, M stop) {
  me.monitor(actor);
  actor.send(stop);
  REQUIRE(me.receive<troupe::Down>(10s).ok());
}

// Gives up the CPU at every call: widens the window between a deliverer taking the queued events
// and sending them, where another thread's later change could overtake them.
struct YieldingObserver final : troupe::detail::GroupObserver {
  void local_joined(std::string_view, const troupe::DynamicHandle&) override { std::this_thread::yield(); }
  void local_left(std::string_view, const troupe::DynamicHandle&) override { std::this_thread::yield(); }
};

}  // namespace groups_test
