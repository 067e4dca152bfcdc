// Delivery: FIFO per sender→receiver pair, exactly once, messages moved or copied in.
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

using namespace troupe_test;

namespace {

struct Seq {
  std::uint32_t sender;
  std::uint64_t n;
};
struct Start {};
struct Ack {};
struct GetReport {};

struct Report {
  std::uint64_t received = 0;
  std::uint64_t duplicates = 0;  // a sequence number seen again (or an older one)
  std::uint64_t gaps = 0;        // a sequence number skipped ahead
  std::vector<std::uint64_t> next;  // per sender: the next sequence number expected
};

// Checks every sender's sequence; acknowledges each full window so senders keep at most two
// windows in flight (the mailbox is unbounded; the test bounds its own memory).
class Receiver {
 public:
  Receiver(troupe::Context&, std::uint32_t senders, std::uint64_t per_sender, std::uint64_t window,
           troupe::DynamicHandle report_to)
      : per_sender_(per_sender), window_(window), report_to_(std::move(report_to)) {
    report_.next.assign(senders, 0);
    senders_.resize(senders);
  }

  auto behavior() {
    return troupe::behavior(
        [this](Seq s) {
          auto& next = report_.next[s.sender];
          if (s.n < next) {
            ++report_.duplicates;
          } else {
            if (s.n > next) ++report_.gaps;
            next = s.n + 1;
          }
          ++report_.received;
          if ((s.n + 1) % window_ == 0 && senders_[s.sender].valid()) senders_[s.sender].send(Ack{});
          if (report_.received == per_sender_ * senders_.size()) report_to_.send(report_);
        },
        [this](std::vector<troupe::DynamicHandle> senders) { senders_ = std::move(senders); },
        [this](GetReport) { return report_; });
  }

 private:
  std::uint64_t per_sender_;
  std::uint64_t window_;
  troupe::DynamicHandle report_to_;
  std::vector<troupe::DynamicHandle> senders_;
  Report report_;
};

class Sender {
 public:
  Sender(std::uint32_t id, troupe::DynamicHandle receiver, std::uint64_t count, std::uint64_t window)
      : id_(id), receiver_(std::move(receiver)), count_(count), window_(window) {}
  auto behavior() {
    return troupe::behavior(
        [this](Start) {
          send_window();
          send_window();
        },
        [this](Ack) { send_window(); });
  }

 private:
  void send_window() {
    for (std::uint64_t i = 0; i < window_ && sent_ < count_; ++i) receiver_.send(Seq{id_, sent_++});
  }
  std::uint32_t id_;
  troupe::DynamicHandle receiver_;
  std::uint64_t count_;
  std::uint64_t window_;
  std::uint64_t sent_ = 0;
};

// Cache-line aligned types, small and large, as messages and as actor state.
struct alignas(64) SmallAligned {
  char bytes[40];
};
struct alignas(64) LargeAligned {
  char bytes[1000];
};
struct StateAlignment {};

template <class T>
int misalignment(const T& object) {
  return static_cast<int>(reinterpret_cast<std::uintptr_t>(&object) % alignof(T));
}

class AlignedState {
 public:
  auto behavior() {
    return troupe::behavior([](const SmallAligned& m) { return misalignment(m); },
                            [](const LargeAligned& m) { return misalignment(m); },
                            [this](StateAlignment) { return misalignment(counters_); });
  }

 private:
  LargeAligned counters_{};
};

}  // namespace

TEST_SUITE("delivery") {

TEST_CASE("exactly once, FIFO per sender: 20 sender actors x 500k messages to one receiver") {
  constexpr std::uint32_t kSenders = 20;
  const std::uint64_t per_sender = scaled(500'000);
  const std::uint64_t window = 5'000;
  const std::uint64_t total = kSenders * per_sender;

  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  auto receiver = system.spawn<Receiver>(kSenders, per_sender, window, me.handle());
  std::vector<troupe::DynamicHandle> senders;
  for (std::uint32_t s = 0; s < kSenders; ++s) senders.push_back(system.spawn<Sender>(s, receiver, per_sender, window));
  receiver.send(senders);  // arrives before any Seq: the senders start only after this send
  const auto start = Clock::now();
  for (auto& s : senders) s.send(Start{});

  auto report = me.receive<Report>(180s);
  const auto took = ms_since(start);
  if (!report.ok()) {
    auto partial = me.request(receiver, GetReport{});
    REQUIRE(partial.ok());
    FAIL("incomplete: received " << partial->received << " of " << total << ", duplicates "
                                  << partial->duplicates << ", gaps " << partial->gaps);
  }
  MESSAGE(total << " messages in " << took.count() << " ms");
  CHECK(report->received == total);
  CHECK(report->duplicates == 0);
  CHECK(report->gaps == 0);
  for (std::uint32_t s = 0; s < kSenders; ++s) CHECK(report->next[s] == per_sender);
  // Nothing more arrives afterwards (no duplicate delivered late).
  REQUIRE(system.wait_idle(30s));
  auto final_report = me.request(receiver, GetReport{});
  REQUIRE(final_report.ok());
  CHECK(final_report->received == total);
  CHECK(system.dead_letters() == 0);
}

TEST_CASE("FIFO from threads that are not actors, each its own sender") {
  constexpr std::uint32_t kThreads = 4;
  const std::uint64_t per_thread = scaled(100'000);
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  auto receiver = system.spawn<Receiver>(kThreads, per_thread, per_thread + 1, me.handle());
  std::vector<std::thread> threads;
  for (std::uint32_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (std::uint64_t i = 0; i < per_thread; ++i) receiver.send(Seq{t, i});
    });
  }
  for (auto& t : threads) t.join();
  auto report = me.receive<Report>(60s);
  REQUIRE(report.ok());
  CHECK(report->received == kThreads * per_thread);
  CHECK(report->duplicates == 0);
  CHECK(report->gaps == 0);
}

TEST_CASE("a message is moved or copied into the receiver; the sender's copy is its own") {
  troupe::System system(troupe::Config{.workers = 1});
  troupe::ScopedActor me(system);
  struct Take {};
  auto keeper = system.spawn([](troupe::Context&) {
    auto kept = std::make_shared<std::vector<int>>();
    return troupe::behavior(
        [kept](std::vector<int> v) {
          v.push_back(-1);  // the receiver's copy
          *kept = std::move(v);
        },
        [](std::unique_ptr<int> p) { return *p; }, [kept](Take) { return *kept; });
  });
  std::vector<int> original{1, 2, 3};
  keeper.send(original);  // copied
  CHECK(original == std::vector<int>{1, 2, 3});
  CHECK(me.request(keeper, Take{}).value() == std::vector<int>{1, 2, 3, -1});

  auto owned = std::make_unique<int>(99);
  keeper.send(std::move(owned));  // moved: the sender no longer has it
  CHECK(owned == nullptr);
  CHECK(me.request(keeper, std::make_unique<int>(5)).value() == 5);
}

TEST_CASE("over-aligned messages and actor state are placed at their alignment") {
  static_assert(alignof(SmallAligned) == 64 && sizeof(LargeAligned) > 512);
  troupe::System system(troupe::Config{.workers = 1});
  troupe::ScopedActor me(system);
  int misaligned = 0;
  for (int i = 0; i < 16; ++i) {
    auto a = system.spawn<AlignedState>();
    if (me.request(a, StateAlignment{}).value() != 0) ++misaligned;
    if (me.request(a, SmallAligned{}).value() != 0) ++misaligned;
    if (me.request(a, LargeAligned{}).value() != 0) ++misaligned;
  }
  CHECK(misaligned == 0);
}

}  // TEST_SUITE
