// The transport thread's loop (node_loop.hpp).
#include "node_loop.hpp"

#include <troupe/runtime/idle_spin.hpp>

#include <kj/debug.h>

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace troupe::transport::detail {

void NodeLoop::wake_locked() {
  if (loop_polling_) {
    handed_over_.store(true, std::memory_order_relaxed);  // relaxed: see handed_over_
    return;
  }
  if (wake_pending_) return;  // the loop has not read the last wake-up yet: it will see this too
  wake_pending_ = true;
  const std::uint64_t one = 1;
  // An eventfd write of 8 bytes only fails on counter overflow, impossible with one unread write.
  [[maybe_unused]] const auto written = ::write(wake_fd_, &one, sizeof one);
}

NodeLoop::NodeLoop(const NodeConfig& config, runtime::Executor& executor, NodeLog& log)
    : config_(config), executor_(executor), errors_(log), loop_spin_(config.idle_spin) {
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::runtime_error(std::string("troupe: eventfd: ") + std::strerror(errno));
}

NodeLoop::~NodeLoop() { ::close(wake_fd_); }

void NodeLoop::LogErrors::taskFailed(kj::Exception&& e) {
  if (e.getType() != kj::Exception::Type::DISCONNECTED)
    log_.line(std::string("transport task failed: ") + e.getDescription().cStr());
}

bool NodeLoop::hand_over(runtime::ActorCore* actor) noexcept {
  std::lock_guard lock(mutex_);
  if (stopped_) return false;
  // The ready list holds a reference: a node-down drops the node's own one while the remote
  // actor may still be queued or running here, and its last user handle may go on any thread.
  actor->add_ref();
  // Relaxed: the list is guarded by mutex_.
  actor->next.store(ready_head_, std::memory_order_relaxed);
  ready_head_ = actor;
  wake_locked();
  return true;
}

void NodeLoop::post(std::function<void()> task) {
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  posted_.push_back(std::move(task));
  wake_locked();
}

bool NodeLoop::stop() {
  std::lock_guard lock(mutex_);
  if (stopped_) return false;
  stopped_ = true;
  wake_locked();
  return true;
}

std::vector<runtime::ActorCore*> NodeLoop::take_ready() {
  std::vector<runtime::ActorCore*> ready;
  std::lock_guard lock(mutex_);  // late hand-overs read stopped_ under it, and leave the list alone
  for (runtime::RunLink* at = std::exchange(ready_head_, nullptr); at != nullptr;) {
    runtime::RunLink* following = at->next.load(std::memory_order_relaxed);  // the loop is gone: no other reader
    ready.push_back(static_cast<runtime::ActorCore*>(at));
    at = following;
  }
  return ready;
}

void NodeLoop::open() {
  io_ = kj::heap<kj::AsyncIoContext>(kj::setupAsyncIo());
  tasks_ = kj::heap<kj::TaskSet>(errors_);
  wake_stream_ = io_->lowLevelProvider->wrapInputFd(
      wake_fd_, kj::LowLevelAsyncIoProvider::ALREADY_CLOEXEC | kj::LowLevelAsyncIoProvider::ALREADY_NONBLOCK);
  auto stop = kj::newPromiseAndFulfiller<void>();
  stopping_ = kj::mv(stop.fulfiller);
  stopped_promise_ = kj::mv(stop.promise);
  tasks_->add(pump());
}

void NodeLoop::run() { run_events(kj::mv(stopped_promise_)); }

void NodeLoop::drop_tasks() { tasks_ = nullptr; }

void NodeLoop::close() {
  tasks_ = nullptr;
  stopped_promise_ = nullptr;
  stopping_ = nullptr;
  wake_stream_ = nullptr;
  io_ = nullptr;
}

kj::Promise<void> NodeLoop::pump() {
  // Sleeps until a hand-over writes the eventfd; reading it resets the counter.
  return wake_stream_->tryRead(&wake_buffer_, sizeof wake_buffer_, sizeof wake_buffer_).then([this](std::size_t) {
    {
      std::lock_guard lock(mutex_);
      wake_pending_ = false;  // hand-overs after this point write again
    }
    drain_handovers();
    if (loop_stopping_) return kj::Promise<void>(kj::NEVER_DONE);
    return pump();
  });
}

void NodeLoop::drain_handovers() {
  runtime::RunLink* ready = nullptr;
  std::vector<std::function<void()>> posted;
  bool stopping = false;
  {
    std::lock_guard lock(mutex_);
    stopping = stopped_;
    if (!stopping) {  // once stopped, stop() disposes of the ready list (and its references)
      ready = std::exchange(ready_head_, nullptr);
      posted.swap(posted_);
    }
  }
  note_activity();
  if (stopping) {
    loop_stopping_ = true;
    KJ_IF_MAYBE (fulfiller, stopping_) {
      (*fulfiller)->fulfill();
    }
    stopping_ = nullptr;
    return;
  }
  for (auto& task : posted) task();
  // The list is newest first; sending order across remote actors does not matter (FIFO is per
  // actor), but reversing keeps batches fair to those scheduled first.
  // Remote actors, and the export watcher: any core whose executor is this node.
  std::vector<runtime::ActorCore*> actors;
  for (runtime::RunLink* at = ready; at != nullptr;) {
    runtime::RunLink* following = at->next.load(std::memory_order_relaxed);  // taken under mutex_ above
    actors.push_back(static_cast<runtime::ActorCore*>(at));
    at = following;
  }
  for (auto it = actors.rbegin(); it != actors.rend(); ++it) {
    if ((*it)->resume() == runtime::TurnResult::more) executor_.schedule(*it);
    (*it)->release();  // the ready list's reference (schedule took a new one)
  }
}

void NodeLoop::note_activity() {
  ++activity_count_;
  KJ_IF_MAYBE (fulfiller, activity_) {
    (*fulfiller)->fulfill();
    activity_ = nullptr;
  }
}

// The transport thread's loop. It sleeps in the event loop (everything that comes meanwhile runs
// there) until a frame or a hand-over arrives, then polls without sleeping until nothing has come
// for NodeConfig::idle_spin. While it polls, hand-overs skip the eventfd and the loop's wake-up:
// in a request/response exchange the next frame or reply usually comes within microseconds.
void NodeLoop::run_events(kj::Promise<void> stopped) {
  if (config_.idle_spin.count() <= 0) {  // never polls: sleep in the event loop until stopped
    stopped.wait(io_->waitScope);
    return;
  }
  auto stop = stopped.fork();
  while (!loop_stopping_) {
    {
      auto next = kj::newPromiseAndFulfiller<void>();
      activity_ = kj::mv(next.fulfiller);
      next.promise.exclusiveJoin(stop.addBranch()).wait(io_->waitScope);
      activity_ = nullptr;
    }
    if (!loop_stopping_) poll_while_busy();
  }
}

void NodeLoop::poll_while_busy() {
  {
    std::lock_guard lock(mutex_);
    loop_polling_ = true;
  }
  for (;;) {
    const std::uint64_t seen = activity_count_;
    const bool active = loop_spin_.until([&] {
      io_->waitScope.poll();  // runs what is ready and polls for I/O, without sleeping
      // Relaxed: the drain takes mutex_, which orders what was handed over (see handed_over_).
      if (!loop_stopping_ && handed_over_.exchange(false, std::memory_order_relaxed)) drain_handovers();
      return loop_stopping_ || activity_count_ != seen;
    });
    if (loop_stopping_) return;
    if (active) continue;
    // Quiet for the whole budget: from here on hand-overs write the eventfd again. One that came
    // just before that is drained now, and the loop polls on.
    bool pending = false;
    {
      std::lock_guard lock(mutex_);
      loop_polling_ = false;
      pending = handed_over_.exchange(false, std::memory_order_relaxed);  // relaxed: as above
      if (pending) loop_polling_ = true;
    }
    if (!pending) return;
    drain_handovers();
    if (loop_stopping_) return;
  }
}

}  // namespace troupe::transport::detail
