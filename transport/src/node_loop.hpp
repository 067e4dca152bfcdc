// The transport thread's event loop, and how other threads hand it work: remote actors with
// messages to send (hand_over) and tasks (post) go on lists under mutex_, with one coalesced
// eventfd wake-up while the loop sleeps and none while it polls (NodeConfig::idle_spin).
#pragma once

#include "node_log.hpp"

#include <troupe/runtime/actor_core.hpp>
#include <troupe/runtime/idle_spin.hpp>
#include <troupe/transport/node.hpp>

#include <kj/async-io.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace troupe::transport::detail {

class NodeLoop {
 public:
  // `executor`: what the actors handed over belong to (the node); a drained one with more to do
  // is scheduled there again. Opens the eventfd (throws if it cannot).
  NodeLoop(const NodeConfig& config, runtime::Executor& executor, NodeLog& log);
  ~NodeLoop();
  NodeLoop(const NodeLoop&) = delete;
  NodeLoop& operator=(const NodeLoop&) = delete;

  // Any thread: `actor` has messages to send; the ready list takes a reference. False once
  // stopped: nothing is taken, and the caller disposes of what it handed.
  bool hand_over(runtime::ActorCore* actor) noexcept;
  // Any thread: runs `task` on the transport thread; dropped once stopped.
  void post(std::function<void()> task);
  // Any thread: refuses every later hand-over and wakes the loop, whose next drain ends
  // run(). True for the first call only.
  bool stop();
  // Once the transport thread has been joined: the actors still on the ready list, newest first,
  // each with the reference the list held.
  std::vector<runtime::ActorCore*> take_ready();

  // Transport thread. open() sets up kj (I/O, the task set, the eventfd's stream); run() runs the
  // loop until stop(); drop_tasks() then close() take it down again, in that order.
  void open();
  void run();
  void drop_tasks();
  void close();

  // Transport thread, between open() and close().
  kj::AsyncIoProvider& io() { return *io_->provider; }
  kj::WaitScope& wait_scope() { return io_->waitScope; }
  kj::Timer& timer() { return io_->provider->getTimer(); }
  kj::TaskSet& tasks() { return *tasks_; }
  // Transport thread: a frame or a hand-over came. Ends the loop's sleep (run_events) and keeps
  // it polling a while longer.
  void note_activity();

 private:
  class LogErrors final : public kj::TaskSet::ErrorHandler {
   public:
    explicit LogErrors(NodeLog& log) : log_(log) {}
    void taskFailed(kj::Exception&& e) override;

   private:
    NodeLog& log_;
  };

  kj::Promise<void> pump();
  void drain_handovers();  // runs what other threads handed over (posted tasks, ready remote actors)
  void run_events(kj::Promise<void> stopped);  // the loop: sleep until activity, then poll a while
  void poll_while_busy();                      // the polling half of run_events
  void wake_locked();                          // under mutex_: makes the loop look at what was handed over

  const NodeConfig& config_;
  runtime::Executor& executor_;
  LogErrors errors_;  // the task set's: logs a failed task

  // Shared with other threads, under mutex_.
  std::mutex mutex_;
  runtime::RunLink* ready_head_ = nullptr;  // remote actors with messages to send (intrusive, LIFO)
  std::vector<std::function<void()>> posted_;
  bool wake_pending_ = false;  // an eventfd write is unread: later hand-overs need not write again
  bool loop_polling_ = false;  // the loop polls (poll_while_busy): hand-overs set handed_over_ instead
  bool stopped_ = false;
  int wake_fd_ = -1;  // eventfd the loop reads: one coalesced wake-up per batch of hand-overs
  // Set (under mutex_) by a hand-over while the loop polls; the loop then drains under mutex_,
  // which orders what was handed over: relaxed is enough for the flag itself.
  std::atomic<bool> handed_over_{false};

  // Transport thread only.
  kj::Own<kj::AsyncIoContext> io_;
  kj::Own<kj::TaskSet> tasks_;
  kj::Own<kj::AsyncInputStream> wake_stream_;                // wake_fd_, read by pump()
  kj::Maybe<kj::Own<kj::PromiseFulfiller<void>>> stopping_;  // fulfilled by pump() once stopped_
  kj::Promise<void> stopped_promise_ = nullptr;              // stopping_'s other end, awaited by run()
  std::uint64_t wake_buffer_ = 0;
  std::uint64_t activity_count_ = 0;  // frames and drains so far (poll_while_busy looks for change)
  runtime::AdaptiveSpin loop_spin_;   // poll_while_busy's polling, and whether it has paid lately
  bool loop_stopping_ = false;        // stop() was seen: run_events returns
  kj::Maybe<kj::Own<kj::PromiseFulfiller<void>>> activity_;  // ends run_events' sleep
};

}  // namespace troupe::transport::detail
