// The executor of one blocking actor: its own thread, so the actor may block on I/O or sleep
// inside a handler without stalling the worker pool (Erlang's dirty schedulers, CAF's detached
// actors). The thread sleeps on a futex while the actor's mailbox is empty and ends with the actor.
#pragma once

#include <troupe/runtime/actor_core.hpp>
#include <troupe/runtime/turn_sampler.hpp>

#include <atomic>
#include <cstdint>
#include <thread>

namespace troupe::runtime {

class Scheduler;

class DedicatedThread final : public Executor {
 public:
  // While the actor has a turn pending or running it holds `scheduler` out of quiescence.
  explicit DedicatedThread(Scheduler* scheduler) noexcept : scheduler_(scheduler) {}
  ~DedicatedThread();
  DedicatedThread(const DedicatedThread&) = delete;
  DedicatedThread& operator=(const DedicatedThread&) = delete;

  // Starts the thread that runs `actor` until it terminates.
  void start(ActorCore* actor);
  void schedule(ActorCore* actor) noexcept override;
  void join();
  // True once the actor has terminated and the thread has nothing left to do.
  bool finished() const noexcept {
    // Acquire: pairs with the release store at the end of run().
    return finished_.load(std::memory_order_acquire);
  }

 private:
  void run(ActorCore* actor) noexcept;

  Scheduler* scheduler_;
  alignas(64) std::atomic<std::uint32_t> wake_{0};
  std::atomic<bool> finished_{false};
  detail::TurnSampler sampler_;  // its thread's own: which turns the metrics sample
  std::thread thread_;
};

}  // namespace troupe::runtime
