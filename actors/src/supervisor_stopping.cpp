// Supervisor, part 2: exits, and stopping children in order without ever blocking — a stop job
// sends one child exit(shutdown) (and arms its timer), and goes on when that child's exit comes
// back through the link; the timer kills a child that takes too long.
#include "supervisor_actor.hpp"

#include <troupe/system.hpp>

#include <algorithm>
#include <utility>

namespace troupe::detail {

void SupervisorActor::on_exit(Exit& e) {
  if (job_ && job_->current.valid() && e.from == job_->current) {
    current_stopped();
    return;
  }
  Child* child = find(e.from);
  if (child == nullptr) {  // the parent, or another linked actor: a failure there ends us
    if (!e.reason.is_normal()) shutdown(std::move(e.reason));
    return;
  }
  child->handle = DynamicHandle();
  if (job_) {
    auto& queue = job_->queue;
    // A child the job was about to stop has stopped already: the job skips it.
    if (std::find(queue.begin(), queue.end(), child->spec.id) != queue.end()) return;
  }
  when_steady([this, id = child->spec.id, incarnation = child->incarnation, reason = std::move(e.reason)] {
    child_stopped(id, incarnation, reason);
  });
}

void SupervisorActor::on_stop_timeout(StopTimeout t) {
  if (job_ && job_->current.valid() && t.generation == stop_generation_) self_.exit(job_->current, ExitReason::kill());
}

// Precondition: no job runs. `ids` in the order to stop them.
void SupervisorActor::stop_children(std::vector<std::string> ids, std::function<void()> then) {
  job_.emplace();
  job_->queue.assign(std::make_move_iterator(ids.begin()), std::make_move_iterator(ids.end()));
  job_->then = std::move(then);
  stop_next();
}

void SupervisorActor::stop_next() {
  StopJob& job = *job_;
  while (!job.queue.empty()) {
    std::string id = std::move(job.queue.front());
    job.queue.pop_front();
    Child* child = find(id);
    if (child == nullptr || !child->handle.valid()) continue;  // stopped meanwhile
    job.current_id = std::move(id);
    job.current = child->handle;
    ++stop_generation_;
    const Shutdown how = child->spec.shutdown;
    if (how.kind == Shutdown::Kind::brutal_kill) {
      self_.exit(job.current, ExitReason::kill());
    } else {
      self_.exit(job.current, ExitReason::shutdown());
      if (how.kind == Shutdown::Kind::timeout) {
        job.timer = self_.send_after(self_.self(), how.timeout, StopTimeout{stop_generation_});
      }
    }
    return;  // goes on when its exit arrives (on_exit)
  }
  std::function<void()> then = std::move(job.then);
  job_.reset();
  if (then) then();
  run_deferred();
}

// The child being stopped has stopped.
void SupervisorActor::current_stopped() {
  StopJob& job = *job_;
  job.timer.cancel();
  job.current = DynamicHandle();
  if (Child* child = find(job.current_id)) {
    child->handle = DynamicHandle();
    if (child->spec.restart == Restart::temporary) erase(job.current_id);
  }
  job.current_id.clear();
  stop_next();
}

// Stops every child in reverse start order, then exits with `reason`. Takes over a job under
// way: the child it is stopping finishes stopping, then the rest follow.
void SupervisorActor::shutdown(ExitReason reason) {
  if (terminating_) return;
  terminating_ = true;
  deferred_.clear();  // their requesters get "reply dropped" when the supervisor exits
  std::vector<std::string> ids = running_ids(0, job_ ? std::string_view(job_->current_id) : std::string_view());
  auto finish = [this, reason = std::move(reason)] {
    for (auto& waiter : stop_waiters_) waiter.deliver();
    stop_waiters_.clear();
    self_.quit(reason);
  };
  if (job_) {
    job_->queue.assign(std::make_move_iterator(ids.begin()), std::make_move_iterator(ids.end()));
    job_->then = std::move(finish);
  } else {
    stop_children(std::move(ids), std::move(finish));
  }
}

// Runs `work` now, or after the job under way (and the work queued before it).
void SupervisorActor::when_steady(std::function<void()> work) {
  if (terminating_) return;
  if (job_ || !deferred_.empty()) {
    deferred_.push_back(std::move(work));
    return;
  }
  work();
}

void SupervisorActor::run_deferred() {
  while (!job_ && !terminating_ && !deferred_.empty()) {
    std::function<void()> work = std::move(deferred_.front());
    deferred_.pop_front();
    work();
  }
}

}  // namespace troupe::detail
