// Bounded mailboxes under a flood: 10^7 messages to a held receiver, with memory sampled while
// they come. Drop: exactly what fits is kept and the rest counted. Backpressure: the sending
// thread waits at capacity and loses nothing.
#include <troupe/troupe.hpp>

#include "supervision/gated_receiver.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <unistd.h>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <thread>

using namespace troupe_test;
using namespace bounded_test;

namespace {

std::size_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  const int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

// Samples the process's resident memory every millisecond while it lives; keeps the peak.
class PeakMemory {
 public:
  PeakMemory() : base_(resident_bytes()), peak_(base_) {
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        const std::size_t now = resident_bytes();
        if (now > peak_.load()) peak_.store(now);
        std::this_thread::sleep_for(1ms);
      }
    });
  }
  ~PeakMemory() { stop(); }
  void stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  std::size_t growth() const { return peak_.load() - base_; }

 private:
  std::size_t base_;
  std::atomic<std::size_t> peak_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

TEST_SUITE("bounded mailboxes") {
  TEST_CASE("flood: 10^7 messages to a held bounded actor; memory stays bounded, every message handled or counted") {
    const std::uint64_t total = scaled(10'000'000);
    constexpr std::uint64_t capacity = 1000;
    // Drop: a thread floods as fast as it can while the receiver is held; the first `capacity`
    // fit, every later one is refused and counted as a dead letter.
    {
      troupe::System system(troupe::Config{.workers = 2});
      auto gate = std::make_shared<Gate>();
      auto receiver = system.spawn(bounded(capacity, troupe::Overflow::drop), gated_receiver, gate);
      receiver.send(Hold{});
      REQUIRE(eventually([&] { return gate->holding.load(); }));
      PeakMemory memory;
      std::uint64_t refused = 0;
      for (std::uint64_t i = 1; i <= total; ++i) {
        if (!receiver.send(Item{i})) ++refused;
      }
      CHECK(limit_of(receiver).queued() == capacity);
      CHECK(gate->handled.load() == 0);
      gate->open.release();
      REQUIRE(system.wait_idle(60s));
      memory.stop();
      CHECK(refused == total - capacity);
      CHECK(system.dead_letters() == refused);
      CHECK(gate->handled.load() == capacity);
      CHECK(gate->last.load() == capacity);  // the first ones, in order
      CHECK_FALSE(gate->out_of_order.load());
      MESSAGE("drop: handled " << gate->handled.load() << ", dropped " << refused << ", peak RSS growth "
                               << memory.growth() / 1024 << " KiB");
#ifndef TROUPE_TEST_SANITIZED                      // sanitizers keep freed memory in quarantine: RSS says nothing
      CHECK(memory.growth() < 64u * 1024 * 1024);  // unbounded, the backlog alone would be 320 MB
#endif
    }
    // Backpressure: nothing is dropped; the sending thread waits whenever the mailbox is full.
    {
      troupe::System system(troupe::Config{.workers = 2});
      auto gate = std::make_shared<Gate>();
      auto receiver = system.spawn(bounded(capacity, troupe::Overflow::backpressure), gated_receiver, gate);
      receiver.send(Hold{});
      REQUIRE(eventually([&] { return gate->holding.load(); }));
      PeakMemory memory;
      std::atomic<std::uint64_t> sent{0};
      std::thread sender([&] {
        for (std::uint64_t i = 1; i <= total; ++i) {
          receiver.send(Item{i});
          sent.fetch_add(1);
        }
      });
      // Held (in the turn that took Hold, which counts until it ends), the receiver takes
      // `capacity` - 1; then the sender waits for room.
      REQUIRE(eventually([&] { return sent.load() == capacity - 1 && limit_of(receiver).waiting_threads() == 1; }));
      CHECK(sent.load() == capacity - 1);
      CHECK(limit_of(receiver).queued() == capacity);
      gate->open.release();
      sender.join();
      REQUIRE(system.wait_idle(60s));
      memory.stop();
      CHECK(gate->handled.load() == total);
      CHECK(gate->last.load() == total);
      CHECK(system.dead_letters() == 0);
      CHECK_FALSE(gate->out_of_order.load());
      MESSAGE("backpressure: handled " << gate->handled.load() << ", peak RSS growth " << memory.growth() / 1024
                                       << " KiB");
#ifndef TROUPE_TEST_SANITIZED
      CHECK(memory.growth() < 64u * 1024 * 1024);
#endif
    }
  }
}
