// Flow control across nodes: many messages from many senders, and floods against a node whose
// actor does not keep up (credits, NodeConfig::receive_window and max_outbound_queue).
#include "flood_support.hpp"
#include "peer_process.hpp"
#include "test_support.hpp"
#include "transport_test_support.hpp"
#include "wire_messages.hpp"

#include <troupe/transport/node.hpp>
#include <troupe/troupe.hpp>

#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace transport_test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kSecret = kTestSecret;

// Sends `n` messages, send(number taken so far) each, to a peer behind a full outbound bound (fail
// or drop): how many were taken and how many refused, each refusal checked to be mailbox_full.
struct Taken {
  std::uint64_t accepted = 0;
  std::uint64_t refused = 0;
};
template <class Send>
Taken send_counting_refusals(std::uint64_t n, Send&& send) {
  Taken taken;
  for (std::uint64_t i = 0; i < n; ++i) {
    const troupe::SendResult r = send(taken.accepted);
    if (r.ok()) {
      ++taken.accepted;
    } else {
      CHECK(r.code() == troupe::Errc::mailbox_full);
      ++taken.refused;
    }
  }
  return taken;
}

// Local messages of the actor senders.
struct Go {};
struct Finished {
  std::uint32_t sender = 0;
};

}  // namespace

TEST_CASE("10^6 messages from threads and actors arrive once each, in order per sender") {
  PeerProcess peer("b", kSecret);
  troupe::System system;
  troupe::transport::Node node(system, {.name = "a", .secret = kSecret});
  node.add_peer("b", "127.0.0.1", peer.port());
  auto found = node.whereis("b", "sink", 10s);
  REQUIRE(found.ok());
  const troupe::DynamicHandle sink = *found;

  constexpr std::uint32_t thread_senders = 4;
  constexpr std::uint32_t actor_senders = 4;
  constexpr std::uint32_t senders = thread_senders + actor_senders;
  const std::uint64_t per_sender = troupe_test::scaled(1'000'000) / senders;
  std::vector<TallyReply> tallies(senders);
  std::vector<char> answered(senders, 0);  // not vector<bool>: its bits share words across threads

  // Actors send in bursts of 1000, one burst per turn, so the outbound bound can mute them between.
  troupe::ScopedActor me(system);
  const troupe::DynamicHandle report = me.handle();
  for (std::uint32_t s = thread_senders; s < senders; ++s) {
    auto actor = system.spawn([sink, report, s, per_sender](troupe::Context& self) {
      auto next = std::make_shared<std::uint64_t>(0);
      return troupe::behavior([&self, sink, report, s, per_sender, next](const Go&) {
        const std::uint64_t end = std::min(*next + 1000, per_sender);
        for (; *next < end; ++*next) (void)sink.send(Seq{s, *next});
        if (*next < per_sender) {
          (void)self.self().send(Go{});
        } else {
          (void)report.send(Finished{s});
        }
      });
    });
    (void)actor.send(Go{});
  }
  std::vector<std::thread> threads;
  for (std::uint32_t s = 0; s < thread_senders; ++s) {
    threads.emplace_back([&, s] {
      for (std::uint64_t i = 0; i < per_sender; ++i) (void)sink.send(Seq{s, i});
      // Same remote actor: the Tally is queued behind this sender's Seqs.
      troupe::ScopedActor asker(system);
      auto tally = asker.request<TallyReply>(sink, Tally{s}, 60s);
      if (tally.ok()) {
        tallies[s] = *tally;
        answered[s] = 1;
      }
    });
  }
  for (auto& t : threads) t.join();
  // An actor's Seqs are in the remote actor's mailbox before its Finished is sent, so a Tally
  // sent after the Finished arrives queues behind them.
  for (std::uint32_t i = 0; i < actor_senders; ++i) {
    auto finished = me.receive<Finished>(60s);
    REQUIRE(finished.ok());
    auto tally = me.request<TallyReply>(sink, Tally{finished->sender}, 60s);
    if (tally.ok()) {
      tallies[finished->sender] = *tally;
      answered[finished->sender] = 1;
    }
  }
  for (std::uint32_t s = 0; s < senders; ++s) {
    CAPTURE(s);
    CHECK(answered[s]);
    CHECK(tallies[s].received == per_sender);  // none lost, none duplicated (a duplicate is out of order)
    CHECK(tallies[s].out_of_order == 0);
  }
  CHECK(node.stats().dead_letters == 0);
}

TEST_CASE("a flood against a slow node stays within bounded memory on both sides") {
  constexpr std::uint32_t window = 256;
  constexpr std::uint32_t queue = 256;
  PeerProcess peer("b", kSecret, {"--window", std::to_string(window)});
  troupe::System system;
  troupe::transport::Node node(system, {.name = "a",
                                        .secret = kSecret,
                                        .max_outbound_queue = queue,
                                        .outbound_overflow = troupe::runtime::Overflow::backpressure});
  node.add_peer("b", "127.0.0.1", peer.port());
  auto found = node.whereis("b", "slow", 10s);
  REQUIRE(found.ok());
  const troupe::DynamicHandle slow = *found;

  // 2 x 10^4 blobs of 16 KiB: 320 MB if either side held the flood; a window and a queue of 256
  // blobs are 4 MB each.
  constexpr std::uint32_t senders = 2;
  const std::uint64_t per_sender = troupe_test::scaled(20'000) / senders;
  const std::string bytes(16 * 1024, 'x');
  const PeakRssGrowth peer_rss(std::to_string(peer.pid()));
  const PeakRssGrowth own_rss("self");
  const auto tallies = send_from_threads_then_tally(
      system, slow, senders,
      [&](std::uint32_t s) {
        for (std::uint64_t i = 0; i < per_sender; ++i) (void)slow.send(Blob{s, i, bytes});
      },
      120s);
  const std::size_t peer_growth = peer_rss.bytes();
  const std::size_t own_growth = own_rss.bytes();
  for (std::uint32_t s = 0; s < senders; ++s) {
    CAPTURE(s);
    REQUIRE(tallies[s].has_value());
    CHECK(tallies[s]->received == per_sender);
    CHECK(tallies[s]->out_of_order == 0);
  }
  MESSAGE("peak RSS growth: slow node " << peer_growth / (1024 * 1024) << " MiB, sender " << own_growth / (1024 * 1024)
                                        << " MiB, for " << senders * per_sender * bytes.size() / (1024 * 1024)
                                        << " MiB sent");
#ifndef TROUPE_TEST_SANITIZED  // sanitizers keep freed memory in quarantine: RSS says nothing
  CHECK(peer_growth < 96u * 1024 * 1024);
  CHECK(own_growth < 96u * 1024 * 1024);
#endif
}

TEST_CASE("with the fail policy, sends beyond the outbound bound are refused and the rest arrive") {
  constexpr std::uint32_t window = 64;
  constexpr std::uint32_t queue = 64;
  PeerProcess peer("b", kSecret, {"--window", std::to_string(window)});
  troupe::System system;
  troupe::transport::Node node(system, {.name = "a",
                                        .secret = kSecret,
                                        .max_outbound_queue = queue,
                                        .outbound_overflow = troupe::runtime::Overflow::fail});
  node.add_peer("b", "127.0.0.1", peer.port());
  auto found = node.whereis("b", "slow", 10s);
  REQUIRE(found.ok());
  const troupe::DynamicHandle slow = *found;

  // The slow actor stalls until the blobs below are sent (the file is the release; 60 s only bounds
  // a failing test). Meanwhile it grants nothing back: at most a window is in flight and a queue
  // waits, however slowly this machine sends.
  const std::string release = "/tmp/troupe-flow-release-" + std::to_string(::getpid());
  std::remove(release.c_str());
  REQUIRE(slow.send(Hold{60'000, release}).ok());
  const std::uint64_t sent = 1000;
  const auto [accepted, refused] = send_counting_refusals(sent, [&](std::uint64_t taken) {
    return slow.send(Blob{0, taken, std::string(1024, 'y')});
  });
  CHECK(accepted + refused == sent);
  CHECK(accepted <= window + queue);
  CHECK(accepted >= queue - 1);      // at least the queue (less the Hold) took them
  std::ofstream(release).put('\n');  // ends the stall
  // The Tally is refused too while the queue is full: ask again until the stall is over and the
  // queue has room (the deadline bounds a failing test only).
  troupe::ScopedActor me(system);
  troupe::Result<TallyReply> tally = troupe::Error{troupe::Errc::mailbox_full, {}};
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (tally.code() == troupe::Errc::mailbox_full && std::chrono::steady_clock::now() < deadline) {
    tally = me.request<TallyReply>(slow, Tally{0}, 60s);
    if (tally.code() == troupe::Errc::mailbox_full) std::this_thread::sleep_for(10ms);
  }
  std::remove(release.c_str());
  REQUIRE(tally.ok());
  CHECK(tally->received == accepted);  // every accepted one arrived, in order
  CHECK(tally->out_of_order == 0);
}

TEST_CASE("Overflow::drop for the outbound queue counts as fail: sends beyond it are refused, no dead letters") {
  constexpr std::uint32_t window = 16;
  constexpr std::uint32_t queue = 16;
  // b's sink stalls on Hold until the test releases it, and meanwhile grants nothing back: a
  // window is in flight, a queue waits on a, and the rest must be refused.
  troupe::System system_b;
  // Made after system_b: should the test end early, its destruction (a broken promise) ends the
  // stall before system_b waits for its actors.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto b_config = node_config("b");
  b_config.receive_window = window;
  troupe::transport::Node b(system_b, std::move(b_config));
  auto sink = system_b.spawn([released](troupe::Context&) {
    auto next = std::make_shared<std::uint64_t>(0);
    auto out_of_order = std::make_shared<std::uint64_t>(0);
    return troupe::behavior([released](const Hold&) { released.wait(); },
                            [next, out_of_order](const Seq& s) {
                              if (s.index != *next) ++*out_of_order;
                              *next = s.index + 1;
                            },
                            [next, out_of_order](const Tally&) {
                              return TallyReply{*next, *out_of_order};
                            });
  });
  REQUIRE(system_b.register_name("sink", sink).ok());

  troupe::System system_a;
  auto a_config = node_config("a");
  a_config.max_outbound_queue = queue;
  a_config.outbound_overflow = troupe::runtime::Overflow::drop;
  troupe::transport::Node a(system_a, std::move(a_config));
  a.add_peer("b", "127.0.0.1", b.port());
  auto found = a.whereis("b", "sink", 10s);
  REQUIRE(found.ok());
  const troupe::DynamicHandle remote = *found;

  REQUIRE(remote.send(Hold{}).ok());
  const std::uint64_t sent = 1000;
  // Numbered by what was taken, so the receiver can check that every accepted one arrived in order.
  const auto [accepted, refused] = send_counting_refusals(sent, [&](std::uint64_t taken) {
    return remote.send(Seq{0, taken});
  });
  CHECK(accepted + refused == sent);
  CHECK(accepted <= window + queue);
  CHECK(accepted >= queue - 1);  // at least the queue (less the Hold) took them
  // As fail, not drop: a refused send is the sender's to handle, not a dead letter.
  CHECK(system_a.dead_letters() == 0);
  CHECK(a.stats().dead_letters == 0);

  release.set_value();
  // The Tally is refused too while the queue is full: ask again until it has room (the deadline
  // bounds a failing test only).
  troupe::ScopedActor me(system_a);
  troupe::Result<TallyReply> tally = troupe::Error{troupe::Errc::mailbox_full, {}};
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (tally.code() == troupe::Errc::mailbox_full && std::chrono::steady_clock::now() < deadline) {
    tally = me.request<TallyReply>(remote, Tally{0}, 60s);
    if (tally.code() == troupe::Errc::mailbox_full) std::this_thread::sleep_for(10ms);
  }
  REQUIRE(tally.ok());
  CHECK(tally->received == accepted);  // every accepted one arrived, once, in order
  CHECK(tally->out_of_order == 0);
  CHECK(system_a.dead_letters() == 0);
}

namespace {

struct OpenUp {};
struct Counts {};
struct CountsReply {
  std::size_t stashed = 0;
  std::uint64_t handled = 0;
};

// Node b's configuration, with a receive window of `window` envelopes.
troupe::transport::NodeConfig with_window(std::uint32_t window) {
  troupe::transport::NodeConfig config = node_config("b");
  config.receive_window = window;
  return config;
}

// The envelopes node a of `system_a` holds for b, not yet on the wire.
std::uint64_t queued_on_a(troupe::System& system_a) {
  auto b_seen_from_a = peer_of(system_a, "a", "b");
  return b_seen_from_a ? b_seen_from_a->outbound_envelopes : 0;
}

}  // namespace

TEST_CASE("an actor that stashes what a peer sends holds that peer's credit: the flood waits on the sender") {
  constexpr std::uint32_t window = 64;
  troupe::System system_b;
  troupe::transport::Node b(system_b, with_window(window));
  // Stashes every Seq until OpenUp, as an actor waiting for its first message would.
  auto stasher = system_b.spawn([](troupe::Context& self) {
    auto open = std::make_shared<bool>(false);
    auto handled = std::make_shared<std::uint64_t>(0);
    return troupe::behavior(
        [&self, open, handled](const Seq&) {
          if (!*open) return self.stash();
          ++*handled;
        },
        [&self, open](OpenUp) {
          *open = true;
          self.unstash_all();
        },
        [&self, handled](Counts) {
          return CountsReply{self.stashed(), *handled};
        });
  });
  REQUIRE(system_b.register_name("stasher", stasher).ok());
  troupe::System system_a;
  troupe::transport::Node a(system_a, node_config("a"));
  a.add_peer("b", "127.0.0.1", b.port());
  auto remote = a.whereis("b", "stasher", 10s);
  REQUIRE(remote.ok());

  constexpr std::uint64_t n = 2000;
  for (std::uint64_t i = 0; i < n; ++i) REQUIRE(remote->send(Seq{0, i}).ok());
  // b grants back nothing its actor stashed: past the window, the rest waits on a. (Before, each
  // credit came back as the message was stashed, and all 2,000 went into the stash.)
  CHECK(troupe_test::eventually([&] { return queued_on_a(system_a) >= n - window; }));
  troupe::ScopedActor me(system_b);
  auto counts = me.request<CountsReply>(stasher, Counts{}, 10s);
  REQUIRE(counts.ok());
  CHECK(counts->stashed <= window);
  CHECK(counts->handled == 0);

  // Once it unstashes, it hands the credit back as it handles them, and the rest comes.
  stasher.send(OpenUp{});
  CHECK(troupe_test::eventually([&] {
    auto now = me.request<CountsReply>(stasher, Counts{}, 10s);
    return now.ok() && now->handled == n;
  }));
  CHECK(queued_on_a(system_a) == 0);
}

TEST_CASE("a thread that receives other things holds the credit of what a peer sent it meanwhile") {
  constexpr std::uint32_t window = 64;
  troupe::System system_b;
  troupe::transport::Node b(system_b, with_window(window));
  troupe::ScopedActor inbox(system_b);
  // A thread's inbox has no name: a finds it through an actor of b's that hands it out.
  auto door = system_b.spawn([inbox = inbox.handle()](troupe::Context&) {
    return troupe::behavior([inbox](const Ping&) { return HandleProbe{inbox}; });
  });
  REQUIRE(system_b.register_name("door", door).ok());
  troupe::System system_a;
  troupe::transport::Node a(system_a, node_config("a"));
  a.add_peer("b", "127.0.0.1", b.port());
  auto found = a.whereis("b", "door", 10s);
  REQUIRE(found.ok());
  troupe::ScopedActor me(system_a);
  auto probe = me.request<HandleProbe>(*found, Ping{0, "", {}}, 10s);
  REQUIRE(probe.ok());
  const troupe::DynamicHandle remote = probe->handle;
  REQUIRE(remote.valid());

  constexpr std::uint64_t n = 2000;
  for (std::uint64_t i = 0; i < n; ++i) REQUIRE(remote.send(Seq{0, i}).ok());
  // Receives that take none of the Seqs keep them for later, and their credit with them. (Before,
  // each receive let the credit go, and all 2,000 piled up in the inbox.)
  CHECK(troupe_test::eventually([&] {
    (void)inbox.receive<OpenUp>(10ms);
    return queued_on_a(system_a) >= n - window;
  }));
  for (int i = 0; i < 10; ++i) (void)inbox.receive<OpenUp>(10ms);
  CHECK(inbox.queued() <= window);

  // Taking them hands the credit back, and the rest comes.
  for (std::uint64_t i = 0; i < n; ++i) {
    auto seq = inbox.receive<Seq>(10s);
    CAPTURE(i);
    REQUIRE(seq.ok());
    REQUIRE(seq->index == i);
  }
  CHECK(queued_on_a(system_a) == 0);
}
