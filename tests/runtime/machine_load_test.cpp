// Whether the machine is oversubscribed (machine_load.hpp): the kernel's runnable threads less
// troupe's spinners, and the board in shared memory on which every troupe process counts its
// spinners. An AdaptiveSpin on an oversubscribed machine does not spin.
#include "machine_load.hpp"

#include <troupe/runtime/idle_spin.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace troupe_test;
using troupe::runtime::detail::SpinningBoard;

namespace {

std::string test_board_name(const char* what) { return "/troupe-test-" + std::string(what) + "-" + std::to_string(::getpid()); }

// Threads that never sleep nor yield, as busy processes do, until destroyed.
class BusyThreads {
 public:
  explicit BusyThreads(long n) {
    for (long i = 0; i < n; ++i) {
      threads_.emplace_back([this] {
        while (!stop_.load(std::memory_order_relaxed)) {
        }
      });
    }
  }
  ~BusyThreads() {
    stop_.store(true, std::memory_order_relaxed);
    for (auto& t : threads_) t.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

}  // namespace

TEST_SUITE("runtime") {
  TEST_CASE("the runnable-thread count is read from a /proc/loadavg line, and a malformed line gives -1") {
    using troupe::runtime::detail::runnable_threads_in_loadavg;
    CHECK(runnable_threads_in_loadavg("0.12 0.30 0.25 3/219 4242\n") == 3);
    CHECK(runnable_threads_in_loadavg("12.00 9.50 7.25 17/1024 99") == 17);
    CHECK(runnable_threads_in_loadavg("0.12 0.30 0.25") == -1);
    CHECK(runnable_threads_in_loadavg("0.12 0.30 0.25 x/219 4242") == -1);
    CHECK(runnable_threads_in_loadavg("0.12 0.30 0.25 3 4242") == -1);
    CHECK(runnable_threads_in_loadavg("") == -1);
  }

  TEST_CASE("the spinning board sums the spinners of every fresh slot; a stale slot counts nothing and is claimed again") {
    const std::string name = test_board_name("board");
    {
      SpinningBoard a(name);
      REQUIRE(a.valid());
      CHECK(a.spinning_now() == 0);
      a.slot().spinning.fetch_add(2);
      CHECK(a.spinning_now() == 2);

      SpinningBoard b(name);  // another process's slot, as far as the board can tell
      REQUIRE(b.valid());
      CHECK(&b.slot().spinning != &a.slot().spinning);
      b.slot().spinning.fetch_add(1);
      CHECK(a.spinning_now() == 3);
      CHECK(b.spinning_now() == 3);

      // b's process stops looking at the board (it died mid-spin): its count no longer counts...
      b.slot().seen_ms.store(SpinningBoard::now_ms() - SpinningBoard::kStaleMs - 100);
      CHECK(a.spinning_now() == 2);
      // ...and the next process to open the board takes the slot over, starting from zero.
      SpinningBoard c(name);
      REQUIRE(c.valid());
      CHECK(b.slot().spinning.load() == 0);
      CHECK(a.spinning_now() == 2);
    }
    ::shm_unlink(name.c_str());
  }

  TEST_CASE("a board that others can read or write is not used") {
    const std::string name = test_board_name("open");
    const int fd = ::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::fchmod(fd, 0666) == 0);
    ::close(fd);
    CHECK_FALSE(SpinningBoard(name).valid());
    ::shm_unlink(name.c_str());
  }

  TEST_CASE("with more busy threads than CPUs the machine is oversubscribed, and an adaptive spin does not spin") {
    const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
    REQUIRE(cpus >= 1);
    BusyThreads busy(cpus + 1);  // with the test's own thread, two more runnable threads than CPUs
    CHECK(eventually([] { return troupe::runtime::detail::machine_oversubscribed(); }, 5000ms));

    troupe::runtime::AdaptiveSpin spin(std::chrono::milliseconds(100));
    int looks = 0;
    // The sample may be a millisecond old and taken in a lull: a few tries, each a fresh sample.
    bool spun_not_at_all = false;
    for (int attempt = 0; attempt < 50 && !spun_not_at_all; ++attempt) {
      looks = 0;
      CHECK_FALSE(spin.until([&] { return ++looks, false; }));
      spun_not_at_all = looks == 0;
      std::this_thread::sleep_for(2ms);
    }
    CHECK(spun_not_at_all);
    // The control: the same spin with the run-queue sign off looks and times out.
    troupe::runtime::AdaptiveSpin blind(std::chrono::milliseconds(2), true, troupe::runtime::AdaptiveSpin::Clock::duration::max(), false);
    looks = 0;
    CHECK_FALSE(blind.until([&] { return ++looks, false; }));
    CHECK(looks >= 1);
  }
}
