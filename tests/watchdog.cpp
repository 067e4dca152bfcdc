#include "watchdog.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace troupe_test::watchdog {
namespace {

using Clock = std::chrono::steady_clock;

// A limit from the environment: its value if it is a positive number, else 0 (no limit).
unsigned long long limit_from(const char* variable) {
  const char* text = std::getenv(variable);
  if (text == nullptr) return 0;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 10);
  return end != text && *end == '\0' ? value : 0;
}

// This process's resident memory in bytes, from /proc/self/statm (its second field, in pages);
// 0 if unreadable. Read with plain system calls into a buffer on the stack, never malloc: a
// process that forks while this thread held an allocator's lock would leave its child stuck on
// that lock (ASan's allocator has no fork handlers: a child's exit() hung in its leak check).
unsigned long long resident_bytes() {
  const int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char text[128];
  const ssize_t got = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (got <= 0) return 0;
  text[got] = '\0';
  char* end = nullptr;
  (void)std::strtoull(text, &end, 10);  // the size of the whole address space, in pages
  const char* resident_text = end;
  const unsigned long long resident = std::strtoull(resident_text, &end, 10);
  if (end == resident_text) return 0;
  return resident * static_cast<unsigned long long>(::sysconf(_SC_PAGESIZE));
}

void say(const std::string& line) {
  const std::string text = "test watchdog: " + line + "\n";
  // stderr, unbuffered: what is written is in the log even if the process dies in the next step.
  (void)!::write(STDERR_FILENO, text.data(), text.size());
}

// Prints every thread's stack, by attaching gdb to this process (which stops it while gdb reads).
// gdb is a child of this process: where the kernel lets a process be traced only by its
// ancestors (Yama), PR_SET_PTRACER lets it trace its parent. `timeout` bounds it if it hangs.
void print_stacks() {
  (void)::prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
  const std::string pid = std::to_string(::getpid());
  std::vector<std::string> args{"timeout", "120",
                                "gdb",     "-p",
                                pid,       "-batch",
                                "-nx",     "-q",
                                "-ex",     "set pagination off",
                                "-ex",     "thread apply all bt 60"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t child = 0;
  const int spawned = ::posix_spawnp(&child, "timeout", nullptr, nullptr, argv.data(), environ);
  if (spawned != 0) {
    say(std::string("no stacks: could not start gdb (") + std::strerror(spawned) + ")");
    return;
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    say("the stacks above are every thread's, as gdb read them");
  } else {
    say("no stacks, or only some: gdb ended with status " + std::to_string(status) +
        " (is gdb installed, and may this process be traced?)");
  }
}

class Watchdog {
 public:
  void start() {
    max_rss_mib_ = limit_from("TROUPE_TEST_MAX_RSS_MIB");
    stall_s_ = limit_from("TROUPE_TEST_STALL_S");
    if (max_rss_mib_ == 0 && stall_s_ == 0) return;
    started_ = Clock::now();
    thread_ = std::thread([this] { watch(); });
  }

  void stop() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  void entered_test_case(const char* name) {
    std::lock_guard lock(mutex_);
    test_case_ = name;
    subcases_.clear();
  }
  void entered_subcase(const std::string& name) {
    std::lock_guard lock(mutex_);
    subcases_.push_back(name);
  }
  void left_subcase() {
    std::lock_guard lock(mutex_);
    if (!subcases_.empty()) subcases_.pop_back();
  }

 private:
  void watch() {
    ::pthread_setname_np(::pthread_self(), "test-watchdog");
    std::unique_lock lock(mutex_);
    for (;;) {
      // A tenth of a second: a runaway allocation of a few GB a second is caught within a few
      // hundred MB of its limit, and the thread costs nothing measurable.
      if (wake_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stopping_; })) return;
      const unsigned long long resident = resident_bytes();
      const auto running = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started_).count();
      std::string why;
      if (max_rss_mib_ != 0 && resident > (max_rss_mib_ << 20)) {
        why = "resident memory " + std::to_string(resident >> 20) + " MiB is over the limit of " +
              std::to_string(max_rss_mib_) + " MiB (TROUPE_TEST_MAX_RSS_MIB)";
      } else if (stall_s_ != 0 && static_cast<unsigned long long>(running) >= stall_s_) {
        why = "still running after " + std::to_string(stall_s_) + " s, the limit (TROUPE_TEST_STALL_S) set " +
              "a little under CTest's timeout; resident memory " + std::to_string(resident >> 20) + " MiB";
      }
      if (!why.empty()) stop_the_process(why);
    }
  }

  // With mutex_ held: nothing the test does changes what is named while this reports.
  [[noreturn]] void stop_the_process(const std::string& why) {
    std::string where = "in test case \"" + test_case_ + "\"";
    for (const auto& s : subcases_) where += ", subcase \"" + s + "\"";
    if (test_case_.empty()) where = "before or after its test cases";
    say(why + ", " + where + ". Every thread's stack follows.");
    print_stacks();
    say("stopping the process (exit status " + std::to_string(kExitStatus) + ")");
    // _exit: no destructors, no atexit handlers (a leak check would report what the test held).
    ::_exit(kExitStatus);
  }

  unsigned long long max_rss_mib_ = 0;
  unsigned long long stall_s_ = 0;
  Clock::time_point started_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;              // guarded by mutex_
  std::string test_case_;              // guarded by mutex_
  std::vector<std::string> subcases_;  // guarded by mutex_: the subcases entered, outermost first
};

// Never destroyed: a process that ends without stop() (an exit() in a forked child, say) must not
// destroy a joinable std::thread, which would terminate it.
Watchdog& the_watchdog() {
  static Watchdog* const watchdog = new Watchdog;
  return *watchdog;
}

}  // namespace

void start() { the_watchdog().start(); }
void stop() { the_watchdog().stop(); }
void entered_test_case(const char* name) { the_watchdog().entered_test_case(name); }
void entered_subcase(const std::string& name) { the_watchdog().entered_subcase(name); }
void left_subcase() { the_watchdog().left_subcase(); }

}  // namespace troupe_test::watchdog
