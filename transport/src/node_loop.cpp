// The transport thread's loop (node_loop.hpp).
//
// Hand-overs: how other threads give the loop work, and how it learns of it.
//  1. The ready list (ready_) is an MpscQueue with the empty mark, as a mailbox is. Its consumer
//     is the transport thread until it is joined; then close_ready(), then late hand-overs, one at
//     a time under mutex_ (7).
//  2. hand_over pushes. The one push that takes the mark (the list was marked empty: the loop may
//     be asleep) wakes the loop: it writes the eventfd. Any other push finds the list unmarked,
//     which means the loop has not marked it since it last looked and will look again before it
//     marks it (3): no wake-up, no lock. An actor is on the list at most once (its mailbox
//     schedules it once per empty→non-empty transition), and is not handed over again before it
//     has run (or gone to never_run): until then its RunLink is free to chain it (Chain).
//  3. The loop marks the list (try_mark_empty) only when it is about to sleep: at the end of
//     polling, or, when it never polls, after each drain. The mark's CAS and the pushes' exchange
//     act on one atomic (the list's head), so one of them comes first: the push, and the mark
//     fails (the loop drains again); or the mark, and the push takes it and writes the eventfd.
//     No wake-up is lost. The eventfd is written once per mark taken, and by the loop itself when
//     a mark fails while it sleeps between drains; every read resets it (no overflow).
//  4. While the loop polls the list is unmarked, so hand-overs write no eventfd: it takes the mark
//     back as it starts (try_unmark; if a push took it first, that push writes the eventfd, which
//     the polling reads), and drains whenever the list holds something (maybe_nonempty).
//  5. post() and stop() take mutex_ and put posted_link_ on the list, once until the loop pops it:
//     the same wake-up. The drain that pops it takes posted_ under mutex_, or sees stopped_.
//  6. Stop: stop() raises stopped_ and queues posted_link_ if it is not queued already. What is
//     handed over after that lies behind it (FIFO), so the drain that pops it and sees stopped_
//     runs nothing: it keeps what it popped for close_ready (unrun_), and the loop ends.
//  7. close_ready() (after the join), under mutex_: raises closed_, pops everything, and leaves
//     the list marked empty. From then on the push that takes the mark finds closed_ under mutex_
//     and empties the list itself (its own actor and those pushed behind it), as a mailbox's
//     owner would, leaving it marked again. A push that finds the list unmarked lies behind one
//     that took the mark, or that close_ready has yet to pop; whoever empties the list only marks
//     it after popping every node, so nothing is stranded. A push that took the mark before
//     close_ready (its node popped there) and finds closed_ empties the list all the same: it
//     finds it marked, or pops what came behind (try_mark_empty is true on a marked list).
//  Actors popped once closed go to never_run and give back the list's reference outside
//  mutex_: either may send, and so hand over again.
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
#include <thread>
#include <utility>
#include <vector>

namespace troupe::transport::detail {

void NodeLoop::wake() noexcept {
  const std::uint64_t one = 1;
  // An eventfd write of 8 bytes only fails on counter overflow: see 3 above. The write follows
  // the push's link, and the loop's read precedes its pop: the kernel orders the two.
  [[maybe_unused]] const auto written = ::write(wake_fd_, &one, sizeof one);
}

NodeLoop::NodeLoop(const NodeConfig& config, runtime::Executor& executor, NodeLog& log, NeverRun never_run)
    : config_(config),
      executor_(executor),
      errors_(log),
      never_run_(std::move(never_run)),
      loop_spin_(config.idle_spin) {
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::runtime_error(std::string("troupe: eventfd: ") + std::strerror(errno));
}

NodeLoop::~NodeLoop() { ::close(wake_fd_); }

void NodeLoop::LogErrors::taskFailed(kj::Exception&& e) {
  if (e.getType() == kj::Exception::Type::DISCONNECTED || !log_.enabled(LogLevel::error)) return;
  const std::string why = e.getDescription().cStr();
  log_.log({.level = LogLevel::error,
            .name = "transport_failed",
            .message = "transport task failed: " + why,
            .reason = why});
}

void NodeLoop::hand_over(runtime::ActorCore* actor) noexcept {
  // The ready list holds a reference: a node-down drops the node's own one while the remote
  // actor may still be queued or running here, and its last user handle may go on any thread.
  actor->add_ref();
  if (!ready_.push(actor)) return;  // 2: whoever holds the list will pop it
  Chain popped;
  {
    std::lock_guard lock(mutex_);
    if (!closed_) {
      wake();  // 2
      return;
    }
    empty_closed_list(popped);  // 7
  }
  dispose(popped.head);
}

void NodeLoop::post(std::function<void()> task) {
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  posted_.push_back(std::move(task));
  if (posted_queued_) return;  // 5
  posted_queued_ = true;
  if (ready_.push(&posted_link_)) wake();
}

bool NodeLoop::stop() {
  std::lock_guard lock(mutex_);
  if (stopped_) return false;
  stopped_ = true;
  if (!posted_queued_) {  // 6
    posted_queued_ = true;
    if (ready_.push(&posted_link_)) wake();
  }
  return true;
}

void NodeLoop::empty_closed_list(Chain& popped) noexcept {
  for (;;) {
    while (runtime::RunLink* link = ready_.pop()) {
      if (link != &posted_link_) popped.append(link);
    }
    if (ready_.try_mark_empty()) return;
    std::this_thread::yield();  // a hand-over is between its push and its link
  }
}

void NodeLoop::dispose(runtime::RunLink* popped) noexcept {
  while (popped != nullptr) {
    // Read first: once never_run has dealt with it (the export watcher marks its mailbox empty),
    // the actor may be handed over again, which rewrites its link.
    runtime::RunLink* following = popped->next.load(std::memory_order_relaxed);  // this thread's chain
    auto* actor = static_cast<runtime::ActorCore*>(popped);
    never_run_(actor);
    actor->release();  // the ready list's reference
    popped = following;
  }
}

void NodeLoop::close_ready() noexcept {
  Chain popped;
  std::vector<std::function<void()>> dropped;  // destroyed outside mutex_ (their captures may send)
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    dropped.swap(posted_);
    for (runtime::RunLink* at = std::exchange(unrun_, nullptr); at != nullptr;) {
      runtime::RunLink* following = at->next.load(std::memory_order_relaxed);  // the joined loop's chain
      popped.append(at);
      at = following;
    }
    empty_closed_list(popped);
  }
  dispose(popped.head);
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
  // Sleeps until a hand-over (or the loop itself) writes the eventfd; reading it resets the counter.
  return wake_stream_->tryRead(&wake_buffer_, sizeof wake_buffer_, sizeof wake_buffer_).then([this](std::size_t) {
    drain_handovers();
    if (loop_stopping_) return kj::Promise<void>(kj::NEVER_DONE);
    // 3: a loop that polls marks the list when its polling ends (the drain woke it to poll);
    // one that never polls sleeps now, unless something came meanwhile (a drained actor with
    // more to send, a hand-over): then it wakes itself, so that I/O gets its turn first.
    if (config_.idle_spin.count() <= 0 && !ready_.try_mark_empty()) wake();
    return pump();
  });
}

void NodeLoop::drain_handovers() {
  if (loop_stopping_) return;
  // Everything on the list now (bounded: each actor is on it once); what the actors drained here
  // hand over again waits for the next drain, so I/O is not starved.
  Chain ready;
  bool look = false;  // posted_link_ was on the list
  while (runtime::RunLink* link = ready_.pop()) {
    if (link == &posted_link_) {
      look = true;
    } else {
      ready.append(link);
    }
  }
  std::vector<std::function<void()>> posted;
  bool stopping = false;
  if (look) {
    std::lock_guard lock(mutex_);
    posted_queued_ = false;  // 5: a later post queues posted_link_ again
    stopping = stopped_;
    if (!stopping) posted.swap(posted_);
  }
  note_activity();
  if (stopping) {  // 6: nothing popped here runs; close_ready disposes of it
    unrun_ = ready.head;
    loop_stopping_ = true;
    KJ_IF_MAYBE (fulfiller, stopping_) {
      (*fulfiller)->fulfill();
    }
    stopping_ = nullptr;
    return;
  }
  for (auto& task : posted) task();
  // Remote actors, and the export watcher: any core whose executor is this node, oldest first.
  for (runtime::RunLink* at = ready.head; at != nullptr;) {
    // Read first: resume() may hand the actor over again, which rewrites its link.
    runtime::RunLink* following = at->next.load(std::memory_order_relaxed);  // this thread's chain
    auto* actor = static_cast<runtime::ActorCore*>(at);
    if (actor->resume() == runtime::TurnResult::more) executor_.schedule(actor);
    actor->release();  // the ready list's reference (schedule took a new one)
    at = following;
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
// for NodeConfig::idle_spin. While it polls it leaves the ready list unmarked, so hand-overs skip
// the eventfd (4): in a request/response exchange the next frame or reply usually comes within
// microseconds.
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
  ready_.try_unmark();  // 4; false: a push took the mark (and writes the eventfd), or no one had it
  for (;;) {
    const std::uint64_t seen = activity_count_;
    const bool active = loop_spin_.until([&] {
      io_->waitScope.poll();                           // runs what is ready and polls for I/O, without sleeping
      if (ready_.maybe_nonempty()) drain_handovers();  // 4
      return loop_stopping_ || activity_count_ != seen;
    });
    if (loop_stopping_) return;
    if (active) continue;
    // 3: quiet for the whole budget. Marked (or marked already, if no hand-over came since the
    // loop last slept): from here on the next hand-over writes the eventfd. Else one came just
    // now: drain it and poll on.
    if (ready_.try_mark_empty()) return;
    drain_handovers();
    if (loop_stopping_) return;
  }
}

}  // namespace troupe::transport::detail
