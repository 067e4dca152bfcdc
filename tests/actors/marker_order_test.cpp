// A response that answers no request (a marker: a node's credit token behind the envelopes it
// stands for, or a late reply) keeps its mailbox order behind the messages an actor sets aside,
// both when a signal overtakes them and while a coroutine awaits, and behind the messages the
// user stashes or a ScopedActor keeps for a later receive: it is disposed of only after they are
// handled. (A node grants credit back when its token is disposed of: disposed early, a second
// window was in flight; and an actor that stashed without end let its peer fill its memory.)
#include <troupe/troupe.hpp>

#include "event_log.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <future>
#include <memory>
#include <string>
#include <vector>

using namespace troupe_test;

namespace {

using Log = troupe_test::EventLog;

// Logs its label ("marker" unless told) when the actor disposes of it.
struct Marker {
  std::shared_ptr<Log> log;
  std::string label;
  explicit Marker(std::shared_ptr<Log> l, std::string text = "marker") : log(std::move(l)), label(std::move(text)) {}
  Marker(Marker&& other) noexcept : log(std::move(other.log)), label(std::move(other.label)) {}
  ~Marker() {
    if (log) log->add(label);
  }
};

struct Gate {
  std::shared_future<void> open;
  std::shared_ptr<std::promise<void>> entered;
};
struct Note {};
struct Ask {};
struct Start {};

void enqueue_marker(const troupe::DynamicHandle& to, const std::shared_ptr<Log>& log, std::string label = "marker") {
  to.core()->enqueue(troupe::make_envelope<Marker>(troupe::EnvelopeKind::response, log, std::move(label)));
}

struct Open {};
struct Other {};
struct HowManyStashed {};
struct Quit {};

// Stashes every Note until an Open, which unstashes them; logs each Note and Other it handles;
// stops on Quit.
troupe::DynamicHandle spawn_stasher(troupe::System& system, const std::shared_ptr<Log>& log) {
  return system.spawn([log](troupe::Context& self) {
    auto open = std::make_shared<bool>(false);
    return troupe::behavior(
        [&self, log, open](Note) {
          if (!*open) return self.stash();
          log->add("note");
        },
        [&self, open](Open) {
          *open = true;
          self.unstash_all();
        },
        [log](Other) { log->add("other"); }, [&self](HowManyStashed) { return self.stashed(); },
        [&self](Quit) { self.quit(); });
  });
}

}  // namespace

TEST_SUITE("set-aside order") {
  TEST_CASE("a marker behind a message that a signal's turn sets aside is disposed of after the message") {
    troupe::System system(troupe::Config{.workers = 2, .stuck_turn = 0ms});
    troupe::ScopedActor me(system);
    auto log = std::make_shared<Log>();
    // Budget 1: the Gate's turn ends with it, and the next one starts by taking the signal.
    auto actor = system.spawn(troupe::SpawnOptions{.budget = 1}, [log](troupe::Context&) {
      return troupe::behavior(
          [](const Gate& g) {
            g.entered->set_value();
            g.open.wait();
          },
          [log](Note) { log->add("note"); });
    });
    std::promise<void> open;
    auto entered = std::make_shared<std::promise<void>>();
    actor.send(Gate{open.get_future().share(), entered});
    entered->get_future().wait();  // the actor is in a turn: what follows waits in its mailbox
    actor.send(Note{});
    enqueue_marker(actor, log);
    me.monitor(actor);  // a signal: the next turn takes it before the Note, setting the Note aside
    open.set_value();
    REQUIRE(system.wait_idle(30s));
    CHECK(log->all() == std::vector<std::string>{"note", "marker"});
  }

  TEST_CASE("a marker that comes while a coroutine awaits waits behind the messages set aside") {
    troupe::System system(troupe::Config{.workers = 2, .stuck_turn = 0ms});
    auto log = std::make_shared<Log>();
    std::promise<void> open;
    std::shared_future<void> opened = open.get_future().share();
    auto slow = system.spawn([opened](troupe::Context&) {
      return troupe::behavior([opened](Ask) {
        opened.wait();
        return 1;
      });
    });
    auto awaiting = std::make_shared<std::promise<void>>();
    auto actor = system.spawn([log, slow, awaiting](troupe::Context& self) {
      return troupe::behavior(
          [&self, log, slow, awaiting](Start) -> troupe::Task<void> {
            auto request = self.request(slow, Ask{});
            awaiting->set_value();
            (void)co_await std::move(request);
            log->add("answered");
          },
          [log](Note) { log->add("note"); });
    });
    actor.send(Start{});
    awaiting->get_future().wait();
    actor.send(Note{});          // set aside: the coroutine awaits
    enqueue_marker(actor, log);  // must wait behind it
    open.set_value();            // the answer comes behind both in the actor's mailbox
    REQUIRE(system.wait_idle(30s));
    CHECK(log->all() == std::vector<std::string>{"answered", "note", "marker"});
  }

  TEST_CASE("a marker behind a message the user stashes waits in the stash until the message is handled") {
    troupe::System system(troupe::Config{.workers = 2, .stuck_turn = 0ms});
    troupe::ScopedActor me(system);
    auto log = std::make_shared<Log>();
    auto actor = spawn_stasher(system, log);
    actor.send(Note{});
    enqueue_marker(actor, log);
    REQUIRE(system.wait_idle(30s));
    CHECK(log->all().empty());  // was {"marker"}: disposed of while its message was stashed
    auto stashed = me.request<std::size_t>(actor, HowManyStashed{}, 10s);
    REQUIRE(stashed.ok());
    CHECK(*stashed == 1);  // the marker is no stashed message of the user's
    actor.send(Open{});
    REQUIRE(system.wait_idle(30s));
    CHECK(log->all() == std::vector<std::string>{"note", "marker"});
  }

  TEST_CASE("a marker behind messages handled since the last stash is disposed of at once") {
    troupe::System system(troupe::Config{.workers = 2, .stuck_turn = 0ms});
    auto log = std::make_shared<Log>();
    auto actor = spawn_stasher(system, log);
    actor.send(Note{});                      // stashed
    enqueue_marker(actor, log, "kept");      // stands for it: kept with it
    actor.send(Other{});                     // handled
    enqueue_marker(actor, log, "disposed");  // stands for the Other only
    REQUIRE(system.wait_idle(30s));
    CHECK(log->all() == std::vector<std::string>{"other", "disposed"});
    actor.send(Open{});
    REQUIRE(system.wait_idle(30s));
    CHECK(log->all() == std::vector<std::string>{"other", "disposed", "note", "kept"});
  }

  TEST_CASE("a marker kept in the stash is disposed of when the actor stops") {
    troupe::System system(troupe::Config{.workers = 2, .stuck_turn = 0ms});
    auto log = std::make_shared<Log>();
    auto actor = spawn_stasher(system, log);
    actor.send(Note{});
    enqueue_marker(actor, log);
    REQUIRE(system.wait_idle(30s));
    CHECK(log->all().empty());
    actor.send(Quit{});  // its stash becomes dead letters
    REQUIRE(system.wait_idle(30s));
    CHECK(log->all() == std::vector<std::string>{"marker"});
    CHECK(system.dead_letters() == 1);  // the Note; the marker is no one's message
  }

  TEST_CASE("a marker behind messages a ScopedActor keeps for a later receive waits until they are taken") {
    troupe::System system(troupe::Config{.workers = 2, .stuck_turn = 0ms});
    auto log = std::make_shared<Log>();
    troupe::ScopedActor me(system);
    me.handle().send(Note{});
    enqueue_marker(me.handle(), log);
    CHECK(!me.receive<Other>(50ms).ok());  // takes neither: the Note is kept for later
    CHECK(log->all().empty());             // was {"marker"}: disposed of while its Note waited
    CHECK(me.queued() == 1);               // the marker is no message of the owner's
    CHECK(me.receive<Note>(1s).ok());
    CHECK(log->all() == std::vector<std::string>{"marker"});
    CHECK(me.queued() == 0);
  }

  TEST_CASE("a marker behind messages a ScopedActor took at once is disposed of at once") {
    troupe::System system(troupe::Config{.workers = 2, .stuck_turn = 0ms});
    auto log = std::make_shared<Log>();
    troupe::ScopedActor me(system);
    me.handle().send(Other{});
    enqueue_marker(me.handle(), log);
    CHECK(me.receive<Other>(1s).ok());
    CHECK(!me.receive<Note>(50ms).ok());  // reads the marker: nothing kept stands behind it
    CHECK(log->all() == std::vector<std::string>{"marker"});
    CHECK(me.queued() == 0);
  }

}  // TEST_SUITE
