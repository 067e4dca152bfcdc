// The transport thread's event loop, and how other threads hand it work: remote actors with
// messages to send (hand_over) go on the ready list, an MpscQueue whose empty mark makes the one
// hand-over that finds the loop asleep write the eventfd, as a mailbox schedules its actor once;
// tasks (post) and stop() take a small mutex and wake the loop through the same list. The
// protocol, and how stop and late hand-overs meet: the top of node_loop.cpp.
#pragma once

#include "node_log.hpp"

#include <troupe/runtime/actor_core.hpp>
#include <troupe/runtime/idle_spin.hpp>
#include <troupe/runtime/link_chain.hpp>
#include <troupe/runtime/mpsc_queue.hpp>
#include <troupe/transport/node.hpp>

#include <kj/async-io.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace troupe::transport::detail {

class NodeLoop {
 public:
  // What the owner does with a handed-over actor that will never run here (the node stopped),
  // before the ready list gives back its reference. Any thread; never under the loop's mutex.
  using NeverRun = std::function<void(runtime::ActorCore*)>;

  // `executor`: what the actors handed over belong to (the node); a drained one with more to do
  // is scheduled there again. Opens the eventfd (throws if it cannot).
  NodeLoop(const NodeConfig& config, runtime::Executor& executor, NodeLog& log, NeverRun never_run);
  ~NodeLoop();
  NodeLoop(const NodeLoop&) = delete;
  NodeLoop& operator=(const NodeLoop&) = delete;

  // Any thread: `actor` has messages to send; the ready list takes a reference. Once stop() has
  // been called the actor does not run here any more: it goes to never_run, and the reference is
  // given back, in close_ready() or (after that) in this call.
  void hand_over(runtime::ActorCore* actor) noexcept;
  // Any thread: runs `task` on the transport thread; dropped once stopped.
  void post(std::function<void()> task);
  // Any thread: wakes the loop, whose next drain ends run(); nothing handed over after this runs.
  // True for the first call only.
  bool stop();
  // Once the transport thread has been joined: every actor still on the ready list goes to
  // never_run and gives back the list's reference, and the tasks never run are dropped. Later
  // hand-overs dispose of themselves.
  void close_ready() noexcept;

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
  void run_events(kj::Promise<void> stopped);          // the loop: sleep until activity, then poll a while
  void poll_while_busy();                              // the polling half of run_events
  void wake() noexcept;                                // writes the eventfd
  using Chain = runtime::LinkChain<runtime::RunLink>;  // popped actors, oldest first
  // The ready list's consumer once closed (under mutex_): pops everything onto `popped` (actors
  // only), and leaves the list marked empty.
  void empty_closed_list(Chain& popped) noexcept;
  void dispose(runtime::RunLink* popped) noexcept;  // never_run and release each; not under mutex_

  const NodeConfig& config_;
  runtime::Executor& executor_;
  LogErrors errors_;  // the task set's: logs a failed task
  NeverRun never_run_;

  // Shared with other threads. The consumer: the transport thread until joined, then
  // close_ready() and the late hand-overs, under mutex_.
  runtime::MpscQueue<runtime::RunLink, true> ready_;
  // On ready_ while posted_queued_: tells the loop to look at posted_ and stopped_.
  runtime::RunLink posted_link_;
  int wake_fd_ = -1;  // eventfd the loop reads: written once per mark taken (and by the loop itself)
  std::mutex mutex_;  // the rare paths: posted tasks, stop, and hand-overs once closed
  std::vector<std::function<void()>> posted_;  // under mutex_
  bool posted_queued_ = false;                 // under mutex_: posted_link_ is on ready_
  bool stopped_ = false;                       // under mutex_
  bool closed_ = false;                        // under mutex_: close_ready() has run

  // Transport thread only (then, once joined, close_ready's).
  runtime::RunLink* unrun_ = nullptr;  // what the last drain popped and did not run (stopped)
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
