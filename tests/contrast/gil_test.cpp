// The GIL model: one holder at a time, the drop request hands the GIL to a waiting thread, and a
// released GIL (blocking I/O) lets another thread run.
#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "gil.hpp"
#include "test_support.hpp"
#include "workloads.hpp"

using namespace contrast;
using namespace std::chrono_literals;

TEST_CASE("the GIL model never lets two threads run interpreter work at once") {
  Gil gil(200us);
  std::atomic<int> inside{0};
  std::atomic<int> most_inside{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      Gil::Held held(gil);
      for (std::uint64_t i = 0; i < troupe_test::scaled(20'000); ++i) {
        // acq_rel: the counter itself is the check, independent of the GIL's own bookkeeping.
        const int now = inside.fetch_add(1, std::memory_order_acq_rel) + 1;
        int seen = most_inside.load(std::memory_order_relaxed);
        while (now > seen && !most_inside.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
        }
        std::uint64_t work = 0;
        for (int k = 0; k < 200; ++k) work = opaque(work) + 1;
        inside.fetch_sub(1, std::memory_order_acq_rel);
        if (i % 1000 == 999) {
          Gil::Released io(gil);  // now and then, "blocking I/O" without the GIL
        }
        gil.check();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(most_inside.load() == 1);
  CHECK(gil.max_concurrent_holders() == 1);
  CHECK(gil.switches() >= 4);  // every thread held it at least once
}

TEST_CASE("a waiter sets the drop request and the holder hands the GIL over at its next check") {
  Gil gil(1ms);
  std::atomic<bool> waiter_ran{false};
  std::atomic<bool> holder_saw_it{false};
  std::promise<void> holding;
  std::thread holder([&] {
    Gil::Held held(gil);
    holding.set_value();
    // Never lets go by itself: only the drop request can get the waiter in. The deadline is a
    // failure bound.
    const auto deadline = troupe_test::Clock::now() + 20s;
    while (troupe_test::Clock::now() < deadline) {
      gil.check();
      if (waiter_ran.load(std::memory_order_acquire)) {  // acquire: pairs with the waiter's release
        holder_saw_it.store(true, std::memory_order_relaxed);
        break;
      }
    }
  });
  holding.get_future().wait();
  {
    Gil::Held held(gil);
    waiter_ran.store(true, std::memory_order_release);
  }
  holder.join();
  CHECK(holder_saw_it.load());
  CHECK(gil.drop_requests() >= 1);
}

TEST_CASE("a thread blocked with the GIL released lets another thread take it") {
  Gil gil;
  std::promise<void> reply;
  std::future<void> replied = reply.get_future();
  std::future_status status = std::future_status::timeout;
  std::thread blocked([&] {
    Gil::Held held(gil);
    Gil::Released io(gil);                // like a recv() in CPython's socket module
    status = replied.wait_for(20s);       // the "I/O": another thread must run to finish it
  });
  std::thread other([&] {
    Gil::Held held(gil);  // possible only while the blocked thread has released it
    reply.set_value();
  });
  other.join();
  blocked.join();
  CHECK(status == std::future_status::ready);
}
