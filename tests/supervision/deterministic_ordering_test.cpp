// The ordering guarantees of links, monitors and exit signals, checked in deterministic mode over
// many seeds: each seed is one interleaving of the actors' turns, and a failing one replays with
// TROUPE_SEED (see <troupe/testing.hpp>).
#include <troupe/testing.hpp>
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

using namespace troupe_test;
using troupe::testing::check;

namespace {

constexpr std::uint64_t kSeeds = 200;

struct Fail {};
struct Ping {};
struct Note {};
struct Quit {};

using Trace = std::vector<std::string>;

std::size_t index_of(const Trace& trace, const std::string& event) {
  return static_cast<std::size_t>(std::find(trace.begin(), trace.end(), event) - trace.begin());
}

std::size_t count_of(const Trace& trace, const std::string& event) {
  return static_cast<std::size_t>(std::count(trace.begin(), trace.end(), event));
}

// Records "fail" and throws.
auto failing(troupe::Context&, std::shared_ptr<Trace> trace) {
  return troupe::behavior([trace](Fail) {
    trace->push_back("fail");
    throw std::runtime_error("boom");
  });
}

// One link of a chain: linked to the one before it; records its pings, and its stop (from its
// destructor, which runs when the actor stops).
class ChainLink {
 public:
  ChainLink(troupe::Context& self, troupe::DynamicHandle previous, int index, std::shared_ptr<Trace> trace)
      : index_(index), trace_(std::move(trace)) {
    if (previous.valid()) self.link(previous);
  }
  ~ChainLink() { trace_->push_back(event("stop")); }
  ChainLink(const ChainLink&) = delete;
  ChainLink& operator=(const ChainLink&) = delete;

  auto behavior() {
    return troupe::behavior([this](Ping) { trace_->push_back(event("ping")); },
                            [this](Fail) {
                              trace_->push_back(event("fail"));
                              throw std::runtime_error("boom");
                            });
  }

 private:
  std::string event(const char* what) const {
    char text[32];
    std::snprintf(text, sizeof text, "%s %d", what, index_);
    return text;
  }
  int index_;
  std::shared_ptr<Trace> trace_;
};

}  // namespace

TEST_SUITE("deterministic ordering") {

TEST_CASE("a Down overtakes the watcher's queued messages: it is the watcher's next event after the failure") {
  for (std::uint16_t budget : {std::uint16_t{1}, std::uint16_t{100}}) {
    CAPTURE(budget);
    constexpr std::size_t kPings = 20;
    std::set<std::size_t> fail_positions;
    const auto result = troupe::testing::explore(kSeeds, [&](std::uint64_t seed) {
      auto trace = std::make_shared<Trace>();
      troupe::Config config = troupe::testing::deterministic(seed, budget);
      config.on_actor_exit = [](const troupe::ExitInfo&) {};  // the failure is expected: no log
      troupe::System system(config);
      auto target = system.spawn(failing, trace);
      auto watcher = system.spawn([target, trace](troupe::Context& self) {
        self.monitor(target);
        return troupe::behavior([trace](Ping) { trace->push_back("ping"); },
                                [trace](const troupe::Down& d) {
                                  trace->push_back(d.reason.message == "boom" ? "down" : "wrong down");
                                });
      });
      check(system.wait_idle(), "not idle after spawning");
      for (std::size_t i = 0; i < kPings; ++i) watcher.send(Ping{});
      target.send(Fail{});
      check(system.wait_idle(), "not idle");
      const std::size_t fail = index_of(*trace, "fail");
      check(fail < trace->size(), "the target did not fail");
      check(fail + 1 < trace->size() && (*trace)[fail + 1] == "down", "the Down waited behind queued pings");
      check(count_of(*trace, "down") == 1, "not exactly one Down");
      check(count_of(*trace, "ping") == kPings, "a ping was lost");
      fail_positions.insert(fail);
    });
    CHECK_MESSAGE(result, result.failure);
    // The seeds put the failure at different points among the pings.
    CHECK(fail_positions.size() >= 2u);
  }
}

TEST_CASE("an exit signal stops a linked actor before its queued messages, which become dead letters") {
  constexpr std::size_t kPings = 20;
  std::set<std::size_t> handled_counts;
  const auto result = troupe::testing::explore(kSeeds, [&](std::uint64_t seed) {
    auto trace = std::make_shared<Trace>();
    auto reasons = std::make_shared<std::vector<troupe::ExitReason>>();
    std::uint64_t dead_pings = 0;
    troupe::Config config = troupe::testing::deterministic(seed);
    config.on_actor_exit = [reasons](const troupe::ExitInfo& info) { reasons->push_back(info.reason); };
    config.on_dead_letter = [&dead_pings](const troupe::DeadLetter& d) {
      if (d.message_type.find("Ping") != std::string_view::npos) ++dead_pings;
    };
    troupe::System system(config);
    auto partner = system.spawn(failing, trace);
    auto victim = system.spawn([partner, trace](troupe::Context& self) {
      self.link(partner);
      return troupe::behavior([trace](Ping) { trace->push_back("ping"); });
    });
    check(system.wait_idle(), "not idle after spawning");
    for (std::size_t i = 0; i < kPings; ++i) victim.send(Ping{});
    partner.send(Fail{});
    check(system.wait_idle(), "not idle");
    const std::size_t fail = index_of(*trace, "fail");
    check(fail < trace->size(), "the partner did not fail");
    check(fail == trace->size() - 1, "the victim handled a ping after its partner failed");
    check(count_of(*trace, "ping") + dead_pings == kPings, "a ping was neither handled nor a dead letter");
    check(reasons->size() == 2, "not both actors stopped");
    for (const auto& r : *reasons) {
      check(r.kind == troupe::ExitReason::Kind::error && r.message == "boom", "an exit reason other than the failure");
    }
    handled_counts.insert(count_of(*trace, "ping"));
  });
  CHECK_MESSAGE(result, result.failure);
  CHECK(handled_counts.size() >= 2u);
}

TEST_CASE("a failure comes down a chain of links in chain order, whatever the order of the other turns") {
  constexpr int kLinks = 6;
  std::set<Trace> distinct;
  const auto result = troupe::testing::explore(kSeeds, [&](std::uint64_t seed) {
    auto trace = std::make_shared<Trace>();
    auto errors = std::make_shared<int>(0);
    troupe::Config config = troupe::testing::deterministic(seed);
    config.on_actor_exit = [errors](const troupe::ExitInfo& info) {
      if (info.reason.kind == troupe::ExitReason::Kind::error && info.reason.message == "boom") ++*errors;
    };
    troupe::System system(config);
    std::vector<troupe::DynamicHandle> chain;
    troupe::DynamicHandle previous;
    for (int i = 0; i < kLinks; ++i) {
      previous = system.spawn<ChainLink>(previous, i, trace);
      chain.push_back(previous);
    }
    check(system.wait_idle(), "not idle after spawning");
    for (auto& link : chain) {
      link.send(Ping{});
      link.send(Ping{});
    }
    chain.front().send(Fail{});
    check(system.wait_idle(), "not idle");
    check(*errors == kLinks, "not every link stopped with the failure");
    std::vector<int> stops;
    for (const auto& e : *trace) {
      if (e.rfind("stop ", 0) == 0) stops.push_back(std::stoi(e.substr(5)));
    }
    std::vector<int> chain_order(kLinks);
    for (int i = 0; i < kLinks; ++i) chain_order[static_cast<std::size_t>(i)] = i;
    check(stops == chain_order, "the links stopped out of chain order");
    // No link handles a ping after it stopped (it cannot: its state is gone), nor after the
    // link before it stopped (the exit signal overtakes the pings).
    for (int i = 1; i < kLinks; ++i) {
      const std::size_t upstream_stop = index_of(*trace, "stop " + std::to_string(i - 1));
      for (std::size_t at = upstream_stop; at < trace->size(); ++at) {
        check((*trace)[at] != "ping " + std::to_string(i), "a link handled a ping after the exit came");
      }
    }
    distinct.insert(*trace);
  });
  CHECK_MESSAGE(result, result.failure);
  CHECK(distinct.size() >= 2u);
}

TEST_CASE("a Down may overtake the stopped actor's last message but never replaces it; the seeds find both orders") {
  struct Watch {
    troupe::DynamicHandle target;
  };
  std::set<Trace> orders;
  const auto result = troupe::testing::explore(kSeeds, [&](std::uint64_t seed) {
    auto trace = std::make_shared<Trace>();
    troupe::System system(troupe::testing::deterministic(seed));
    auto watcher = system.spawn([trace](troupe::Context& self) {
      return troupe::behavior([&self](const Watch& w) { self.monitor(w.target); },
                              [trace](Note) { trace->push_back("note"); },
                              [trace](const troupe::Down& d) {
                                trace->push_back(d.reason.kind == troupe::ExitReason::Kind::normal ? "down" : "bad");
                              });
    });
    // Forwards a Note to the watcher in one turn; quits in a later one.
    auto watched = system.spawn([watcher](troupe::Context& self) {
      return troupe::behavior([watcher](Note) { watcher.send(Note{}); }, [&self](Quit) { self.quit(); });
    });
    watcher.send(Watch{watched});
    check(system.wait_idle(), "not idle after spawning");
    watched.send(Note{});
    watched.send(Quit{});
    check(system.wait_idle(), "not idle");
    check(trace->size() == 2 && count_of(*trace, "note") == 1 && count_of(*trace, "down") == 1,
          "the note and one normal Down did not both arrive");
    orders.insert(*trace);
  });
  CHECK_MESSAGE(result, result.failure);
  // Both the message first, and the Down overtaking it (when the watched actor's quit turn runs
  // before the watcher's next turn).
  CHECK(orders == std::set<Trace>{{"note", "down"}, {"down", "note"}});
}

}  // TEST_SUITE
