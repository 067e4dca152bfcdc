// The supervisor actor (see supervisor.hpp for what it promises). It is an asynchronous state
// machine: at most one "stop job" runs at a time (stopping children one by one, in the order
// given, each with its own timer), and requests that need the children steady wait behind it.
//
// Sources: supervisor_children.cpp (starting, restarting, strategies, intensity),
// supervisor_stopping.cpp (stop jobs, shutdown), supervisor_requests.cpp (the client requests),
// supervisor_spawn.cpp (spawning one, child specs), supervisor_log.cpp (its log events).
#pragma once

#include <troupe/behavior.hpp>
#include <troupe/context.hpp>
#include <troupe/promise.hpp>
#include <troupe/signals.hpp>
#include <troupe/supervisor.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::detail {

// The timer of the child being stopped fired (ignored unless `generation` is the current one).
struct StopTimeout {
  std::uint64_t generation;
};

class SupervisorActor {
 public:
  SupervisorActor(Context& self, SupervisorSpec spec, std::vector<ChildSpec> children);

  auto behavior() {
    return troupe::behavior([this](Exit& e) { on_exit(e); },                           //
                            [this](StopTimeout t) { on_stop_timeout(t); },             //
                            [this](StartChild& r) { return on_start_child(r); },       //
                            [this](TerminateChild& r) { return on_terminate_child(r); },
                            [this](RestartChild& r) { return on_restart_child(r); },   //
                            [this](DeleteChild& r) { return on_delete_child(r); },     //
                            [this](WhichChildren) { return which_children(); },        //
                            [this](CountChildren) { return count_children(); },        //
                            [this](StopSupervisor) { return on_stop(); });
  }

 private:
  struct Child {
    ChildSpec spec;
    DynamicHandle handle;          // empty when not running
    std::size_t restarts = 0;
    std::uint64_t incarnation = 0;  // bumped by every start: tells a stale exit event apart
    std::string_view actor{};       // the actor type of its last incarnation (static storage), for the log
  };
  // Stopping children one at a time (reverse start order, usually), then running `then`.
  struct StopJob {
    std::deque<std::string> queue;  // ids still to stop, in order
    std::string current_id;         // the child stopping now (empty: none)
    DynamicHandle current;
    Timer timer;
    std::function<void()> then;
  };
  using Clock = std::chrono::steady_clock;

  // Children (supervisor_children.cpp).
  Child* find(std::string_view id) noexcept;
  Child* find(const DynamicHandle& handle) noexcept;
  std::size_t index_of(std::string_view id) const noexcept;
  void erase(std::string_view id) noexcept;
  Result<Child*> stopped_child(const std::string& id);  // supervisor_requests.cpp
  Result<DynamicHandle> start(Child& child);
  bool start_all();
  void child_stopped(const std::string& id, std::uint64_t incarnation, const ExitReason& reason);
  bool note_restart();
  void restart_children(const std::vector<std::string>& ids, const std::string& failed, const ExitReason& reason);
  std::vector<std::string> running_ids(std::size_t from, std::string_view except) const;

  // The log (supervisor_log.cpp): "supervisor_restart" after `child` started again, because
  // `failed` stopped with `reason`; "escalation" as the supervisor gives up, after `child`
  // stopped or failed to start, and exits with `reason` (then shutdown).
  void log_restart(const Child& child, const std::string& failed, const ExitReason& reason) const noexcept;
  void escalate(const Child& child, ExitReason reason);

  // Stopping (supervisor_stopping.cpp).
  void on_exit(Exit& e);
  void on_stop_timeout(StopTimeout t);
  void stop_children(std::vector<std::string> ids, std::function<void()> then);
  void stop_next();
  void current_stopped();
  void shutdown(ExitReason reason);
  void when_steady(std::function<void()> work);
  void run_deferred();

  // Requests (supervisor_requests.cpp).
  Promise<DynamicHandle> on_start_child(StartChild& r);
  Promise<void> on_terminate_child(TerminateChild& r);
  Promise<DynamicHandle> on_restart_child(RestartChild& r);
  Promise<void> on_delete_child(DeleteChild& r);
  std::vector<ChildInfo> which_children() const;
  ChildCounts count_children() const;
  Promise<void> on_stop();

  Context& self_;
  SupervisorSpec spec_;
  std::vector<Child> children_;  // in start order
  std::deque<Clock::time_point> restart_times_;  // within the last spec_.period
  std::optional<StopJob> job_;
  std::uint64_t stop_generation_ = 0;
  std::deque<std::function<void()>> deferred_;  // waits for job_ to end
  bool terminating_ = false;                    // stopping every child, then exiting
  std::vector<Promise<void>> stop_waiters_;     // StopSupervisor requests, answered at the end
};

}  // namespace troupe::detail
