// The transport thread's loop, and how other threads hand it work: remote actors with messages to
// send (schedule) and tasks (post) go on lists under mutex_, with one coalesced eventfd wake-up
// while the loop sleeps and none while it polls (NodeConfig::idle_spin).
#include "export_watcher.hpp"
#include "node_core.hpp"

#include <troupe/runtime/idle_spin.hpp>

#include <kj/debug.h>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

namespace troupe::transport::detail {

void NodeCore::wake_locked() {
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

void NodeCore::schedule(runtime::ActorCore* actor) noexcept {
  std::unique_lock lock(mutex_);
  if (stopped_) {
    // A remote actor's messages stay in its mailbox, disposed when its last handle goes. The
    // export watcher's Downs are dropped now: each holds its actor, which may hold the watcher.
    lock.unlock();
    if (actor == watcher_) watcher_->discard_all();
    return;
  }
  // The ready list holds a reference: a node-down drops the node's own one while the remote
  // actor may still be queued or running here, and its last user handle may go on any thread.
  actor->add_ref();
  // Relaxed: the list is guarded by mutex_.
  actor->next.store(ready_head_, std::memory_order_relaxed);
  ready_head_ = actor;
  wake_locked();
}

void NodeCore::post(std::function<void()> task) {
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  posted_.push_back(std::move(task));
  wake_locked();
}

kj::Promise<void> NodeCore::pump() {
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

void NodeCore::drain_handovers() {
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
    if ((*it)->resume() == runtime::TurnResult::more) schedule(*it);
    (*it)->release();  // the ready list's reference (schedule took a new one)
  }
}

void NodeCore::note_activity() {
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
void NodeCore::run_events(kj::Promise<void> stopped) {
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

void NodeCore::poll_while_busy() {
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
