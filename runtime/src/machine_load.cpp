#include "machine_load.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>

namespace troupe::runtime::detail {

namespace {

static_assert(std::atomic<std::int32_t>::is_always_lock_free && std::atomic<std::int64_t>::is_always_lock_free,
              "the board is shared between processes: its atomics must not hide a lock");

// A sample costs one pread of /proc/loadavg (about 1.5 µs) and a read of the board's 64 lines,
// so a thousand a second cost one CPU well under 1%, and only while some thread is about to spin
// (with a coarse clock whose tick is longer, fewer).
constexpr std::int64_t kSampleIntervalNs = 1'000'000;

struct LoadSampler {
  const int fd = ::open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
  const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  // Both relaxed: the sample steers a heuristic, and an old one is as good as a fresh one; the
  // compare-exchange only picks which asker takes the next sample, so no two take it at once.
  std::atomic<std::int64_t> next_sample_ns{0};
  std::atomic<bool> oversubscribed{false};
};

LoadSampler& sampler() noexcept {
  static LoadSampler s;  // the process's one descriptor for /proc/loadavg, closed at exit
  return s;
}

// The coarse clock (the kernel's tick, 1-4 ms) is read without a syscall and costs a few
// nanoseconds, less than the fine one: asked before every spin, it decides only whether a sample
// is due, for which a tick is fine enough.
std::int64_t coarse_now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

long runnable_threads_in_loadavg(const char* line) noexcept {
  // Three load averages, then "running/total".
  const char* p = line;
  for (int field = 0; field < 3; ++field) {
    while (*p != '\0' && *p != ' ') ++p;
    while (*p == ' ') ++p;
  }
  char* end = nullptr;
  const long running = std::strtol(p, &end, 10);
  if (end == p || *end != '/') return -1;
  return running;
}

std::int64_t SpinningBoard::now_ms() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

SpinningBoard::SpinningBoard(const std::string& name) noexcept {
  const int fd = ::shm_open(name.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;
  struct stat st{};
  // Another user's board (whoever could create it first under this name) is not read.
  const bool ours = ::fstat(fd, &st) == 0 && st.st_uid == ::geteuid() && (st.st_mode & 077) == 0;
  constexpr auto kBytes = sizeof(Slot) * kSlots;
  // Every opener sets the size before mapping, so no process maps past the end of an empty file.
  void* map = ours && ::ftruncate(fd, kBytes) == 0 ? ::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
  ::close(fd);
  if (map == MAP_FAILED) return;
  slots_ = static_cast<Slot*>(map);  // a fresh file is zeros: every slot free
  const std::int32_t me = static_cast<std::int32_t>(::getpid());
  const std::int64_t now = now_ms();
  for (int i = 0; i < kSlots && slot_ == nullptr; ++i) {
    Slot& s = slots_[i];
    std::int32_t owner = s.pid.load(std::memory_order_relaxed);
    const bool free = owner == 0 || now - s.seen_ms.load(std::memory_order_relaxed) > kStaleMs;
    // Relaxed: the compare-exchange only decides which process takes the slot.
    if (free && s.pid.compare_exchange_strong(owner, me, std::memory_order_relaxed)) {
      s.spinning.store(0, std::memory_order_relaxed);  // whatever a dead owner left counted
      s.seen_ms.store(now, std::memory_order_relaxed);
      slot_ = &s;
    }
  }
}

SpinningBoard::~SpinningBoard() {
  if (slot_ != nullptr) slot_->pid.store(0, std::memory_order_relaxed);
  if (slots_ != nullptr) ::munmap(slots_, sizeof(Slot) * kSlots);
}

long SpinningBoard::spinning_now() noexcept {
  const std::int64_t now = now_ms();
  slot_->seen_ms.store(now, std::memory_order_relaxed);
  long total = 0;
  for (int i = 0; i < kSlots; ++i) {
    const Slot& s = slots_[i];
    if (s.pid.load(std::memory_order_relaxed) == 0 || now - s.seen_ms.load(std::memory_order_relaxed) > kStaleMs) continue;
    const std::int32_t n = s.spinning.load(std::memory_order_relaxed);
    if (n > 0) total += n;  // a slot reclaimed under a live spinner can go below zero for a moment
  }
  return total;
}

SpinningBoard* process_spinning_board() noexcept {
  // Never destroyed: threads may spin until the process exits. A forked child shares its parent's
  // slot, which only ever matters as part of the sum.
  static SpinningBoard* board = [] {
    auto* b = new SpinningBoard("/troupe-spinning-" + std::to_string(::geteuid()));
    if (b->valid()) return b;
    delete b;
    return static_cast<SpinningBoard*>(nullptr);
  }();
  return board;
}

bool machine_oversubscribed() noexcept {
  LoadSampler& s = sampler();
  if (s.fd < 0 || s.cpus < 1) return false;
  const std::int64_t now = coarse_now_ns();
  std::int64_t next = s.next_sample_ns.load(std::memory_order_relaxed);
  if (now >= next && s.next_sample_ns.compare_exchange_strong(next, now + kSampleIntervalNs, std::memory_order_relaxed)) {
    char line[128];
    const ssize_t n = ::pread(s.fd, line, sizeof line - 1, 0);
    if (n > 0) {
      line[n] = '\0';
      const long runnable = runnable_threads_in_loadavg(line);
      SpinningBoard* board = process_spinning_board();
      const long spinning = board != nullptr ? board->spinning_now() : 0;
      // Less the caller, which is running this and is about to spin, not yet on the board.
      const long others = runnable - spinning - 1;
      s.oversubscribed.store(runnable >= 0 && others >= s.cpus, std::memory_order_relaxed);
    }
  }
  return s.oversubscribed.load(std::memory_order_relaxed);
}

}  // namespace troupe::runtime::detail
