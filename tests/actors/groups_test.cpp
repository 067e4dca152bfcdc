// Process groups (groups.hpp): join, leave, members, broadcast, monitors, removal on stop, refusals,
// concurrent joins, and the cluster's origin-keyed members (group_origins.hpp).
#include <troupe/group_origins.hpp>
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace troupe_test;

namespace {

struct Stop {};
struct Boom {};
struct Note {
  int sender;
  int seq;
};
struct GetNotes {
  using reply_type = std::vector<Note>;
};

auto member(troupe::Context& self) {
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
auto relay(troupe::Context& self, troupe::DynamicHandle to) {
  return troupe::behavior([to](troupe::GroupMembers m) { to.send(std::move(m)); },
                          [to](troupe::GroupJoined m) { to.send(std::move(m)); },
                          [to](troupe::GroupLeft m) { to.send(std::move(m)); }, [&self](Stop) { self.quit(); });
}

// Two workers, and no log of the failures the tests cause on purpose.
troupe::Config quiet_config() {
  troupe::Config config{.workers = 2};
  config.on_actor_exit = [](const troupe::ExitInfo&) {};
  return config;
}

using Names = std::map<troupe::DynamicHandle, std::string>;

std::string listed(const Names& names, const std::vector<troupe::DynamicHandle>& handles) {
  std::string out;
  for (const troupe::DynamicHandle& h : handles) {
    if (!out.empty()) out += ',';
    auto it = names.find(h);
    out += it == names.end() ? std::string("?") : it->second;
  }
  return out;
}

// The next group event `me` receives, as text: "members g: a,b", "joined g: a", "left g: a".
std::string next_event(troupe::ScopedActor& me, const Names& names) {
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

}  // namespace

TEST_SUITE_BEGIN("groups");

TEST_CASE("join, members, leave; a group exists while it has members") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::Groups& groups = system.groups();
  auto a = system.spawn(member);
  auto b = system.spawn(member);

  CHECK(groups.members("g").empty());
  REQUIRE(groups.join("g", a).ok());
  REQUIRE(groups.join("g", b).ok());
  REQUIRE(groups.join("h", b).ok());
  CHECK(groups.members("g") == std::vector<troupe::DynamicHandle>{a, b});
  CHECK(groups.local_members("g") == std::vector<troupe::DynamicHandle>{a, b});
  CHECK(groups.groups() == std::vector<std::string>{"g", "h"});

  REQUIRE(groups.leave("g", a).ok());
  CHECK(groups.members("g") == std::vector<troupe::DynamicHandle>{b});
  troupe::Result<void> again = groups.leave("g", a);
  CHECK(again.code() == troupe::Errc::no_such_name);
  CHECK(again.error().what == "not a member of group 'g'");
  CHECK(groups.leave("never", a).code() == troupe::Errc::no_such_name);
  REQUIRE(groups.leave("h", b).ok());
  CHECK(groups.groups() == std::vector<std::string>{"g"});
  REQUIRE(groups.leave("g", b).ok());
  CHECK(groups.groups().empty());
  CHECK(groups.members("g").empty());
}

TEST_CASE("joining twice lists the member twice; leave takes back one join") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  troupe::Groups& groups = system.groups();
  auto a = system.spawn(member);
  auto r = system.spawn<Recorder>();
  REQUIRE(groups.join("g", a).ok());
  REQUIRE(groups.join("g", r).ok());
  REQUIRE(groups.join("g", a).ok());
  REQUIRE(groups.join("g", r).ok());
  CHECK(groups.members("g") == std::vector<troupe::DynamicHandle>{a, r, a, r});
  CHECK(groups.broadcast("g", Note{0, 1}) == 4);
  CHECK(me.request(r, GetNotes{}).value().size() == 2);  // one copy per join

  REQUIRE(groups.leave("g", a).ok());
  CHECK(groups.members("g") == std::vector<troupe::DynamicHandle>{r, a, r});
  REQUIRE(groups.leave("g", a).ok());
  CHECK(groups.leave("g", a).code() == troupe::Errc::no_such_name);
  CHECK(groups.members("g") == std::vector<troupe::DynamicHandle>{r, r});
}

TEST_CASE("a member is removed when its actor stops: quit, and a throwing handler") {
  troupe::System system(quiet_config());
  troupe::ScopedActor me(system);
  troupe::Groups& groups = system.groups();
  auto quits = system.spawn(member);
  auto fails = system.spawn(member);
  auto stays = system.spawn(member);
  for (const troupe::DynamicHandle& h : {quits, fails, stays, quits}) REQUIRE(groups.join("g", h).ok());
  REQUIRE(groups.join("only-quits", quits).ok());
  REQUIRE(groups.join("only-fails", fails).ok());

  stop_and_wait(me, quits, Stop{});
  CHECK(groups.members("g") == std::vector<troupe::DynamicHandle>{fails, stays});
  CHECK(groups.groups() == std::vector<std::string>{"g", "only-fails"});

  stop_and_wait(me, fails, Boom{});
  CHECK(groups.members("g") == std::vector<troupe::DynamicHandle>{stays});
  CHECK(groups.groups() == std::vector<std::string>{"g"});
  // A stopped actor cannot join again.
  CHECK(groups.join("g", quits).code() == troupe::Errc::dead_actor);
}

TEST_CASE("broadcast reaches each member exactly once, in order per sender") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  troupe::Groups& groups = system.groups();
  std::vector<troupe::DynamicHandle> recorders;
  for (int i = 0; i < 3; ++i) {
    recorders.push_back(system.spawn<Recorder>());
    REQUIRE(groups.join("room", recorders.back()).ok());
  }
  CHECK(groups.broadcast("empty", Note{0, 0}) == 0);

  constexpr int senders = 3;
  const int per_sender = static_cast<int>(scaled(300));
  std::vector<std::thread> threads;
  for (int s = 0; s < senders; ++s) {
    threads.emplace_back([&, s] {
      for (int i = 0; i < per_sender; ++i) CHECK(groups.broadcast("room", Note{s, i}) == 3);
    });
  }
  for (std::thread& t : threads) t.join();

  for (const auto& r : recorders) {
    std::vector<Note> got = me.request(r, GetNotes{}).value();
    CHECK(got.size() == static_cast<std::size_t>(senders * per_sender));
    std::vector<int> next(senders, 0);
    for (const Note& n : got) {
      REQUIRE(n.sender >= 0);
      REQUIRE(n.sender < senders);
      CHECK(n.seq == next[n.sender]);  // each sender's broadcasts arrive once, in order
      next[n.sender] = n.seq + 1;
    }
  }
}

TEST_CASE("a watcher gets the snapshot first, then every change in order, stops included") {
  troupe::System system(quiet_config());
  troupe::ScopedActor me(system);
  troupe::Groups& groups = system.groups();
  auto a = system.spawn(member);
  auto b = system.spawn(member);
  auto c = system.spawn(member);
  auto w = system.spawn(relay, me.handle());
  const Names names{{a, "a"}, {b, "b"}, {c, "c"}};

  REQUIRE(groups.join("g", a).ok());
  REQUIRE(groups.join("g", b).ok());
  REQUIRE(groups.monitor("g", w).ok());
  REQUIRE(groups.join("g", c).ok());
  REQUIRE(groups.join("other", c).ok());  // not watched
  REQUIRE(groups.leave("g", a).ok());
  REQUIRE(groups.join("g", b).ok());
  stop_and_wait(me, b, Stop{});  // joined twice: one GroupLeft naming it twice
  stop_and_wait(me, c, Boom{});
  CHECK(next_event(me, names) == "members g: a,b");
  CHECK(next_event(me, names) == "joined g: c");
  CHECK(next_event(me, names) == "left g: a");
  CHECK(next_event(me, names) == "joined g: b");
  CHECK(next_event(me, names) == "left g: b,b");
  CHECK(next_event(me, names) == "left g: c");

  // A watcher of an empty group gets an empty snapshot; demonitor ends the events.
  REQUIRE(groups.monitor("quiet", w).ok());
  CHECK(next_event(me, names) == "members quiet: ");
  CHECK(groups.demonitor("quiet", w));
  CHECK_FALSE(groups.demonitor("quiet", w));
  REQUIRE(groups.join("quiet", a).ok());
  REQUIRE(groups.join("g", a).ok());
  CHECK(next_event(me, names) == "joined g: a");  // and nothing of "quiet" before it
}

namespace {
// Gives up the CPU at every call: widens the window between a deliverer taking the queued events
// and sending them, where another thread's later change could overtake them.
struct YieldingObserver final : troupe::detail::GroupObserver {
  void local_joined(std::string_view, const troupe::DynamicHandle&) override { std::this_thread::yield(); }
  void local_left(std::string_view, const troupe::DynamicHandle&) override { std::this_thread::yield(); }
};
}  // namespace

TEST_CASE("concurrent changes reach a watcher in the order the table made them") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  troupe::Groups& groups = system.groups();
  YieldingObserver observer;
  troupe::detail::GroupOrigins::set_observer(groups, &observer);
  auto w = system.spawn(relay, me.handle());
  auto marker = system.spawn(member);
  std::vector<troupe::DynamicHandle> actors;
  for (int i = 0; i < 4; ++i) actors.push_back(system.spawn(member));
  REQUIRE(groups.monitor("g", w).ok());

  // Each thread joins its actor `rounds` times and leaves it every other time.
  const int rounds = static_cast<int>(scaled(1000));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < rounds; ++i) {
        CHECK(groups.join("g", actors[t]).ok());
        if (i % 2 == 1) CHECK(groups.leave("g", actors[t]).ok());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  REQUIRE(groups.join("g", marker).ok());

  std::vector<troupe::DynamicHandle> final_members = groups.members("g");
  CHECK(final_members.size() == static_cast<std::size_t>(4 * (rounds - rounds / 2) + 1));
  for (const troupe::DynamicHandle& a : actors) {
    CHECK(std::count(final_members.begin(), final_members.end(), a) == rounds - rounds / 2);
  }

  // Each actor's changes reach the watcher in the order its thread made them: J, then J L, and
  // so on (a leave never overtakes its join), each once.
  std::string expected;
  for (int i = 0; i < rounds; ++i) expected += i % 2 == 1 ? "JL" : "J";
  std::map<troupe::DynamicHandle, std::string> seen;
  REQUIRE(me.receive<troupe::GroupMembers>(10s).value().members.empty());
  bool marker_seen = false;
  while (!marker_seen) {
    troupe::Result<void> got = me.receive(troupe::behavior(
                                              [&](const troupe::GroupJoined& j) {
                                                for (const troupe::DynamicHandle& h : j.members) {
                                                  seen[h] += 'J';
                                                  if (h == marker) marker_seen = true;
                                                }
                                              },
                                              [&](const troupe::GroupLeft& l) {
                                                for (const troupe::DynamicHandle& h : l.members) seen[h] += 'L';
                                              }),
                                          10s);
    REQUIRE(got.ok());
  }
  for (const troupe::DynamicHandle& a : actors) CHECK(seen[a] == expected);
  troupe::detail::GroupOrigins::set_observer(groups, nullptr);
}

TEST_CASE("a change made on another thread after a first one reaches a watcher after it") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  troupe::Groups& groups = system.groups();
  YieldingObserver observer;
  troupe::detail::GroupOrigins::set_observer(groups, &observer);
  auto w = system.spawn(relay, me.handle());
  auto marker = system.spawn(member);
  std::vector<troupe::DynamicHandle> actors{system.spawn(member), system.spawn(member)};
  REQUIRE(groups.monitor("g", w).ok());
  REQUIRE(me.receive<troupe::GroupMembers>(10s).ok());

  // Per actor, one thread joins it whenever it is not a member, and another leaves it whenever it
  // is: each change follows the one before it in the table, made on another thread, which may
  // still be delivering it.
  const int rounds = static_cast<int>(scaled(1000));
  std::vector<std::thread> threads;
  for (const troupe::DynamicHandle& a : actors) {
    for (bool leaver : {false, true}) {
      threads.emplace_back([&groups, a, leaver, rounds] {
        for (int i = 0; i < rounds; ++i) {
          for (;;) {
            std::vector<troupe::DynamicHandle> now = groups.members("g");
            if ((std::find(now.begin(), now.end(), a) != now.end()) == leaver) break;
            std::this_thread::yield();
          }
          CHECK((leaver ? groups.leave("g", a) : groups.join("g", a)).ok());
        }
      });
    }
  }
  for (std::thread& t : threads) t.join();
  REQUIRE(groups.join("g", marker).ok());

  std::string expected;
  for (int i = 0; i < rounds; ++i) expected += "JL";
  std::map<troupe::DynamicHandle, std::string> seen;
  bool marker_seen = false;
  while (!marker_seen) {
    troupe::Result<void> got = me.receive(troupe::behavior(
                                              [&](const troupe::GroupJoined& j) {
                                                for (const troupe::DynamicHandle& h : j.members) {
                                                  seen[h] += 'J';
                                                  if (h == marker) marker_seen = true;
                                                }
                                              },
                                              [&](const troupe::GroupLeft& l) {
                                                for (const troupe::DynamicHandle& h : l.members) seen[h] += 'L';
                                              }),
                                          10s);
    REQUIRE(got.ok());
  }
  for (const troupe::DynamicHandle& a : actors) CHECK(seen[a] == expected);
  troupe::detail::GroupOrigins::set_observer(groups, nullptr);
}

TEST_CASE("a watcher that stops is forgotten") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  troupe::Groups& groups = system.groups();
  auto a = system.spawn(member);
  auto w = system.spawn(relay, me.handle());
  REQUIRE(groups.monitor("g", w).ok());
  REQUIRE(groups.monitor("h", w).ok());
  REQUIRE(me.receive<troupe::GroupMembers>(10s).ok());
  REQUIRE(me.receive<troupe::GroupMembers>(10s).ok());

  stop_and_wait(me, w, Stop{});
  const std::uint64_t before = system.dead_letters();
  REQUIRE(groups.join("g", a).ok());  // no event is sent to the stopped watcher
  REQUIRE(groups.join("h", a).ok());
  CHECK(system.dead_letters() == before);
  CHECK_FALSE(groups.demonitor("g", w));
  CHECK(groups.monitor("g", w).code() == troupe::Errc::dead_actor);
}

TEST_CASE("only this system's live actors may join or watch") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::System other(troupe::Config{.workers = 1});
  troupe::ScopedActor me(system);
  troupe::Groups& groups = system.groups();
  auto stranger = other.spawn(member);
  auto stopped = system.spawn(member);
  stop_and_wait(me, stopped, Stop{});

  for (const troupe::DynamicHandle& h : std::vector<troupe::DynamicHandle>{{}, me.handle(), stranger, stopped}) {
    troupe::Result<void> joined = groups.join("g", h);
    CHECK(joined.code() == troupe::Errc::dead_actor);
    CHECK_FALSE(joined.error().what.empty());
    CHECK(groups.monitor("g", h).code() == troupe::Errc::dead_actor);
  }
  CHECK(groups.leave("g", troupe::DynamicHandle()).code() == troupe::Errc::dead_actor);
  CHECK(groups.members("g").empty());
  CHECK(groups.groups().empty());
}

namespace {
// Records what the groups tell the cluster layer.
struct RecordingObserver final : troupe::detail::GroupObserver {
  std::mutex mutex;
  std::vector<std::string> calls;
  const Names* names = nullptr;
  void local_joined(std::string_view group, const troupe::DynamicHandle& m) override { record("joined", group, m); }
  void local_left(std::string_view group, const troupe::DynamicHandle& m) override { record("left", group, m); }
  void record(const char* kind, std::string_view group, const troupe::DynamicHandle& m) {
    std::string line(kind);
    line += ' ';
    line += group;
    line += ": ";
    line += listed(*names, {m});
    std::lock_guard lock(mutex);
    calls.push_back(std::move(line));
  }
};
}  // namespace

TEST_CASE("members of other nodes: added and removed by origin, dropped with their node") {
  using troupe::detail::GroupOrigins;
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  troupe::Groups& groups = system.groups();
  auto local = system.spawn<Recorder>();
  // Local actors stand in for actors of nodes n2 and n3.
  auto x = system.spawn<Recorder>();
  auto y = system.spawn<Recorder>();
  auto z = system.spawn<Recorder>();
  auto w = system.spawn(relay, me.handle());
  const Names names{{local, "local"}, {x, "x"}, {y, "y"}, {z, "z"}};
  RecordingObserver observer;
  observer.names = &names;
  GroupOrigins::set_observer(groups, &observer);

  REQUIRE(groups.join("g", local).ok());
  REQUIRE(groups.monitor("g", w).ok());
  GroupOrigins::add(groups, "n2", "g", x);
  GroupOrigins::add(groups, "n2", "g", y);
  GroupOrigins::add(groups, "n3", "g", z);
  GroupOrigins::add(groups, "n2", "h", x);
  CHECK(groups.members("g") == std::vector<troupe::DynamicHandle>{local, x, y, z});
  CHECK(groups.local_members("g") == std::vector<troupe::DynamicHandle>{local});
  CHECK(groups.groups() == std::vector<std::string>{"g", "h"});
  CHECK(groups.leave("g", x).code() == troupe::Errc::no_such_name);  // not this node's to leave

  CHECK(groups.broadcast("g", Note{7, 1}) == 4);
  for (const troupe::DynamicHandle& r : {local, x, y, z}) CHECK(me.request(r, GetNotes{}).value().size() == 1);

  CHECK_FALSE(GroupOrigins::remove(groups, "n3", "g", x));  // x came from n2
  CHECK(GroupOrigins::remove(groups, "n2", "g", y));
  CHECK(GroupOrigins::drop_origin(groups, "n2") == 2);  // x in g and in h
  CHECK(groups.members("g") == std::vector<troupe::DynamicHandle>{local, z});
  CHECK(groups.groups() == std::vector<std::string>{"g"});
  CHECK(GroupOrigins::drop_origin(groups, "n2") == 0);
  REQUIRE(groups.leave("g", local).ok());

  CHECK(next_event(me, names) == "members g: local");
  CHECK(next_event(me, names) == "joined g: x");
  CHECK(next_event(me, names) == "joined g: y");
  CHECK(next_event(me, names) == "joined g: z");
  CHECK(next_event(me, names) == "left g: y");
  CHECK(next_event(me, names) == "left g: x");
  CHECK(next_event(me, names) == "left g: local");

  // The observer heard of the local changes only, a stop included.
  auto c = system.spawn(member);
  REQUIRE(groups.join("g", c).ok());
  stop_and_wait(me, c, Stop{});
  CHECK(next_event(me, names) == "joined g: ?");
  CHECK(next_event(me, names) == "left g: ?");
  GroupOrigins::set_observer(groups, nullptr);
  std::lock_guard lock(observer.mutex);
  CHECK(observer.calls == std::vector<std::string>{"joined g: local", "left g: local", "joined g: ?", "left g: ?"});
}
