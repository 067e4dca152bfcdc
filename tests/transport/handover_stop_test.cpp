// Hand-overs to a node's transport thread racing with the node's stop (node_loop.cpp's protocol):
// every request sent to a remote actor is answered, however its hand-over meets the stop (drained
// before it, left on the ready list at the join, or handed over once the list is closed), and
// none by its own timeout. An actor stranded on the list would keep the list's reference, so it
// would outlive its last handle and its requests would wait for that timeout.
#include "test_support.hpp"
#include "transport_test_support.hpp"
#include "wire_messages.hpp"

#include <troupe/transport/node.hpp>
#include <troupe/troupe.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <vector>

using namespace transport_test;
using namespace std::chrono_literals;

namespace {

// Far beyond what an answered request takes: only a stranded one waits for it.
constexpr auto kRequestTimeout = 60s;

struct Fire {
  bool last = false;  // then drop the remote handles
};
struct Done {
  std::uint64_t answered = 0;
  std::uint64_t timed_out = 0;
};

// Each Fire sends `per_fire` requests round robin over `targets`; once the requests of both
// Fires are answered, the requester tells `report`.
troupe::DynamicHandle spawn_requester(troupe::System& system, std::vector<troupe::DynamicHandle> targets,
                                      std::uint64_t per_fire, troupe::DynamicHandle report) {
  struct State {
    std::vector<troupe::DynamicHandle> targets;
    std::uint64_t answered = 0;
    std::uint64_t timed_out = 0;
  };
  auto state = std::make_shared<State>();
  state->targets = std::move(targets);
  return system.spawn([state, per_fire, report](troupe::Context& self) {
    return troupe::behavior([&self, state, per_fire, report](const Fire& fire) {
      for (std::uint64_t i = 0; i < per_fire; ++i) {
        const troupe::DynamicHandle& target = state->targets[i % state->targets.size()];
        self.request<Pong>(target, Ping{static_cast<std::int32_t>(i), "", {}}, kRequestTimeout)
            .then([state, per_fire, report](troupe::Result<Pong> r) {
              ++state->answered;
              if (!r && r.code() == troupe::Errc::timeout) ++state->timed_out;
              if (state->answered == 2 * per_fire) report.send(Done{state->answered, state->timed_out});
            });
      }
      if (fire.last) state->targets.clear();
    });
  });
}

}  // namespace

TEST_CASE("requests to remote actors racing with their node's stop are all answered, none by its timeout") {
  constexpr int kTargets = 6;
  constexpr int kRequesters = 6;
  troupe::System system_a(troupe::Config{.workers = 4});
  troupe::System system_b;
  for (int i = 0; i < kTargets; ++i) {
    auto echo = system_b.spawn([](troupe::Context&) {
      return troupe::behavior([](const Ping& p) { return Pong{p.n + 1, p.text, 0}; });
    });
    REQUIRE(system_b.register_name("echo" + std::to_string(i), echo).ok());
  }
  // Node a's transport thread either polls a while after each hand-over (the ready list then
  // stays unmarked) or sleeps after each drain (it marks the list every time).
  std::chrono::microseconds idle_spin = troupe::transport::NodeConfig{}.idle_spin;
  SUBCASE("polling") {}
  SUBCASE("never polling") { idle_spin = std::chrono::microseconds(0); }
  const std::uint64_t per_fire = troupe_test::scaled(200) < 20 ? 20 : troupe_test::scaled(200);
  const std::uint64_t rounds = troupe_test::scaled(10) < 3 ? 3 : troupe_test::scaled(10);
  for (std::uint64_t round = 0; round < rounds; ++round) {
    CAPTURE(round);
    // b goes first: once a has seen it down, its remote actors answer every request at once
    // (node_down), so no request waits on the wire and only a stranded one can time out.
    std::promise<void> down;
    std::atomic<bool> told{false};
    auto config_a = node_config("a");
    config_a.idle_spin = idle_spin;
    config_a.on_node_down = [&](std::string_view) {
      // acq_rel: only the first node-down keeps the promise (a redial may fail again).
      if (!told.exchange(true, std::memory_order_acq_rel)) down.set_value();
    };
    auto a = std::make_unique<troupe::transport::Node>(system_a, std::move(config_a));
    auto b = std::make_unique<troupe::transport::Node>(system_b, node_config("b"));
    a->add_peer("b", "127.0.0.1", b->port());
    std::vector<troupe::DynamicHandle> targets;
    for (int i = 0; i < kTargets; ++i) {
      auto target = a->whereis("b", "echo" + std::to_string(i), 10s);
      REQUIRE(target.ok());
      targets.push_back(*target);
    }
    b.reset();
    REQUIRE(down.get_future().wait_for(troupe_test::heartbeat_wait) == std::future_status::ready);

    troupe::ScopedActor me(system_a);
    std::vector<troupe::DynamicHandle> requesters;
    for (int i = 0; i < kRequesters; ++i)
      requesters.push_back(spawn_requester(system_a, targets, per_fire, me.handle()));
    // The first requests race with a's stop; the second come once it is stopped: their
    // hand-overs find the ready list closed.
    for (const auto& r : requesters) r.send(Fire{false});
    a.reset();
    for (const auto& r : requesters) r.send(Fire{true});
    targets.clear();  // the requesters' handles are the last: once they go, every request is answered
    for (int i = 0; i < kRequesters; ++i) {
      auto done = me.receive<Done>(2 * kRequestTimeout);
      REQUIRE(done.ok());
      CHECK(done->answered == 2 * per_fire);
      CHECK(done->timed_out == 0);
    }
  }
}

// A message may hold a handle to the remote actor it is sent to (a member list names the peer it
// goes to). Once the node has stopped, what is sent to its remote actors is dropped at once, a
// request answered: kept in the mailbox, such a message would keep its receiver, and through it
// the stopped node, alive for ever (LeakSanitizer reports it at exit), and a request there would
// wait for its timeout.
TEST_CASE("what is sent to a remote actor once its node stopped is dropped at once, though it holds the actor") {
  troupe::System system_a;
  troupe::System system_b;
  auto echo = system_b.spawn(
      [](troupe::Context&) { return troupe::behavior([](const HandleProbe& p) { return p.handle.valid(); }); });
  REQUIRE(system_b.register_name("echo", echo).ok());
  auto a = std::make_unique<troupe::transport::Node>(system_a, node_config("a"));
  troupe::transport::Node b(system_b, node_config("b"));
  a->add_peer("b", "127.0.0.1", b.port());
  troupe::DynamicHandle remote;
  {
    auto found = a->whereis("b", "echo", 10s);
    REQUIRE(found.ok());
    remote = *found;
  }
  a.reset();
  // A one-way message holding its receiver, then a request: both reach the remote actor's
  // mailbox after the stop, and its hand-over finds the node's ready list closed.
  (void)remote.send(HandleProbe{remote});
  troupe::ScopedActor me(system_a);
  const troupe::Result<bool> answer = me.request<bool>(remote, HandleProbe{remote}, kRequestTimeout);
  REQUIRE_FALSE(answer);
  CHECK(answer.code() == troupe::Errc::dead_actor);
  remote = troupe::DynamicHandle();  // the last handle outside: the node goes with it
}

namespace {

// What a requester on the stopping node heard (local messages: they never cross a node).
struct Heard {
  bool answered = false;  // a Pong came (it never should)
  troupe::Errc code{};
  std::string what;
};
struct SawDown {
  troupe::ExitReason reason;
};

}  // namespace

// A request written to a peer awaits the peer's answer, which cannot come once this node stopped:
// it fails at the stop (Errc::node_down), not at its timeout, and a monitor of a remote actor
// hears a Down, as at a node-down. Before, each such request held ~System for its whole timeout.
TEST_CASE("a node's stop fails the requests awaiting its peers' answers at once, and tells monitors") {
  troupe::System system_a;
  troupe::System system_b;
  // Takes each request and never answers it: only the stop can end the wait.
  auto keeper = system_b.spawn([](troupe::Context& self) {
    auto kept = std::make_shared<std::vector<troupe::Promise<Pong>>>();
    return troupe::behavior([&self, kept](const Ping&) {
      kept->push_back(self.promise<Pong>());
      return kept->back();
    });
  });
  REQUIRE(system_b.register_name("keeper", keeper).ok());
  auto a = std::make_unique<troupe::transport::Node>(system_a, node_config("a"));
  troupe::transport::Node b(system_b, node_config("b"));
  a->add_peer("b", "127.0.0.1", b.port());
  auto remote = a->whereis("b", "keeper", 10s);
  REQUIRE(remote.ok());

  troupe::ScopedActor me(system_a);
  const troupe::DynamicHandle report = me.handle();
  system_a.spawn([target = *remote, report](troupe::Context& self) {
    self.monitor(target);
    self.request<Pong>(target, Ping{1, "", {}}, kRequestTimeout).then([report](troupe::Result<Pong> r) {
      report.send(r ? Heard{true, {}, {}} : Heard{false, r.code(), r.error().what});
    });
    return troupe::behavior([report](const troupe::Down& down) { report.send(SawDown{down.reason}); });
  });
  // The request is on the wire, awaiting b's answer, before a stops.
  REQUIRE(troupe_test::eventually([&] { return a->stats().pending_requests == 1; }));
  a.reset();

  auto heard = me.receive<Heard>(2 * kRequestTimeout);
  REQUIRE(heard.ok());
  REQUIRE_FALSE(heard->answered);
  CHECK(heard->code == troupe::Errc::node_down);  // before: Errc::timeout, a minute later
  CHECK(heard->what == "node 'a' stopped");
  auto down = me.receive<SawDown>(10s);
  REQUIRE(down.ok());
  CHECK(down->reason.kind == troupe::ExitReason::Kind::node_down);
}
