// One worker thread of the pool and its run loop.
#pragma once

#include "injection_queue.hpp"
#include "work_stealing_deque.hpp"

#include <troupe/runtime/actor_core.hpp>
#include <troupe/runtime/idle_spin.hpp>

#include <cstdint>
#include <thread>

namespace troupe::runtime::detail {

struct SchedulerShared;

class Worker {
 public:
  Worker(SchedulerShared& shared, unsigned index);
  void start();
  void join();

  // Called on this worker's own thread only.
  void schedule_local(ActorCore* actor) noexcept;

  WorkStealingDeque& deque() noexcept { return deque_; }
  SchedulerShared& shared() noexcept { return shared_; }
  unsigned index() const noexcept { return index_; }

 private:
  void run() noexcept;
  ActorCore* next_actor() noexcept;
  ActorCore* search() noexcept;
  ActorCore* spin_for_work() noexcept;
  ActorCore* steal() noexcept;
  bool any_work_visible() const noexcept;
  bool more_work_visible() const noexcept;

  void park() noexcept;
  void run_turn(ActorCore* actor) noexcept;
  void run_traced_turn(ActorCore* actor) noexcept;
  void push_or_inject(ActorCore* actor) noexcept;
  std::uint32_t next_random() noexcept;

  SchedulerShared& shared_;  // of this worker's pool: what it shares with the others
  const unsigned index_;
  WorkStealingDeque deque_;
  ActorCore* lifo_slot_ = nullptr;
  unsigned lifo_streak_ = 0;
  bool searching_ = false;  // counted in IdleWorkers' searchers (set when woken)
  std::uint64_t tick_ = 0;
  std::uint32_t rng_;
  AdaptiveSpin spin_;  // this worker's spins before it parks: whether they have paid lately
  std::thread thread_;
};

extern thread_local Worker* tls_current_worker;

}  // namespace troupe::runtime::detail
