// Urgent messages and requests to an actor on another node: the mark crosses the wire, and the
// actor there handles them before the messages that reached its mailbox ahead of them.
#include "test_support.hpp"
#include "transport_test_support.hpp"
#include "wire_messages.hpp"

#include <troupe/transport/node.hpp>
#include <troupe/troupe.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

using namespace transport_test;
using troupe_test::eventually;
using namespace std::chrono_literals;

TEST_CASE("urgent messages and requests to an actor on another node overtake the messages that arrived before them") {
  troupe::System system_a;
  troupe::transport::Node node_a{system_a, node_config("a")};
  troupe::System system_b;
  troupe::transport::Node node_b{system_b, node_config("b")};

  // On b: records Seq indices and Ping numbers (as -n); Seq 0 holds it until `open`. One message
  // a turn: a turn under way ends before the next one takes the urgent messages.
  std::atomic<bool> entered{false}, open{false};
  std::atomic<int> handled{0};  // after each entry: the test reads the log once all are in
  auto log = std::make_shared<std::vector<int>>();
  troupe::SpawnOptions one_a_turn;
  one_a_turn.budget = 1;
  auto recorder = system_b.spawn(one_a_turn, [log, &entered, &open, &handled](troupe::Context&) {
    return troupe::behavior(
        [log, &entered, &open, &handled](const Seq& s) {
          if (s.index == 0) {
            entered.store(true, std::memory_order_release);
            while (!open.load(std::memory_order_acquire)) std::this_thread::yield();
          }
          log->push_back(static_cast<int>(s.index));
          handled.fetch_add(1, std::memory_order_release);
        },
        [log, &handled](const Ping& p) {
          log->push_back(-p.n);
          handled.fetch_add(1, std::memory_order_release);
          return Pong{p.n, "pong", 0};
        });
  });
  REQUIRE(system_b.register_name("recorder", recorder).ok());
  node_a.add_peer("b", "127.0.0.1", node_b.port());
  auto remote = node_a.whereis("b", "recorder", 10s);
  REQUIRE(remote.ok());

  remote->send(Seq{1, 0});
  REQUIRE(eventually([&] { return entered.load(std::memory_order_acquire); }));
  const std::uint64_t before = node_b.stats().envelopes_received;
  const int jobs = 20;  // well inside the receive window: all of them reach b's mailbox
  for (int i = 1; i <= jobs; ++i) remote->send(Seq{1, static_cast<std::uint64_t>(i)});
  CHECK(remote->send_urgent(Ping{1, "cancel", {}}).ok());
  CHECK(remote->send_urgent(Ping{2, "cancel", {}}).ok());
  // An urgent request from an actor on a: answered before the Seqs too.
  std::atomic<int> answer{0};
  auto asker = system_a.spawn([remote = *remote, &answer](troupe::Context& self) {
    return troupe::behavior([remote, &answer, &self](int) {
      self.request<Pong>(remote, Ping{3, "health", {}}, 10s)
          .urgent()
          .then([&answer](const Pong& p) { answer.store(p.n, std::memory_order_release); },
                [&answer](const troupe::Error&) { answer.store(-1, std::memory_order_release); });
    });
  });
  asker.send(0);
  // b counts an envelope as it starts on it and delivers it a moment later (over a millisecond
  // under ThreadSanitizer). b's connection takes envelopes one at a time, in order, so once it
  // counts one sent after the 23 above, all 23 are in the recorder's mailbox.
  REQUIRE(eventually([&] { return node_b.stats().envelopes_received >= before + jobs + 3; }));
  remote->send(Seq{1, static_cast<std::uint64_t>(jobs + 1)});
  REQUIRE(eventually([&] { return node_b.stats().envelopes_received >= before + jobs + 4; }));
  open.store(true, std::memory_order_release);
  REQUIRE(eventually([&] { return handled.load(std::memory_order_acquire) == jobs + 5; }));
  REQUIRE(eventually([&] { return answer.load(std::memory_order_acquire) != 0; }));
  CHECK(answer.load() == 3);
  std::vector<int> expected{0, -1, -2, -3};
  for (int i = 1; i <= jobs + 1; ++i) expected.push_back(i);
  CHECK(*log == expected);
}
