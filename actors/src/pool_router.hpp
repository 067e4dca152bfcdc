// The pool's router (see pool.hpp for what it promises): an actor of its own kind, whose dispatch
// takes every envelope rather than a behavior's types, so it can forward what it does not know.
//
// Sources: pool_router.cpp (the actor: starting, control requests, routees coming and going),
// pool_routing.cpp (choosing a routee and forwarding).
#pragma once

#include <troupe/context.hpp>
#include <troupe/pool.hpp>
#include <troupe/promise.hpp>
#include <troupe/signals.hpp>
#include <troupe/supervisor.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace troupe::detail {

// Sent by a routee's start function (on the supervisor's turn) each time it starts one.
struct RouteeUp {
  std::uint64_t serial;
  DynamicHandle routee;
};

class PoolRouter final : public ActorCell {
 public:
  PoolRouter(System& system, runtime::Executor* executor, PoolInit&& init);
  std::string_view name() const noexcept override { return "troupe::Pool"; }

 private:
  // One place in the routing order. Its serial names the supervisor's child ("routee-<serial>")
  // through every restart.
  struct Slot {
    std::uint64_t serial;
    DynamicHandle routee;  // empty while starting or restarting
    MonitorRef ref;        // the monitor of `routee`
    bool started = false;  // has had a routee (false: the pool waits for it before routing)
  };
  // A routee removed by a resize, until it has stopped.
  struct Retiring {
    std::uint64_t serial;
    MonitorRef ref;  // none while it restarts (it crashed while draining)
  };

  // The actor (pool_router.cpp).
  void construct() override;
  void dispatch(Envelope& env) override;
  void destruct() noexcept override;
  void destroy() noexcept override;
  ChildSpec routee_spec(std::uint64_t serial);
  void add_slot();
  void resize(std::size_t size);
  void on_up(RouteeUp& up);
  void on_down(Down& down);
  void retire(std::uint64_t serial, const DynamicHandle& routee);
  void forget_child(std::uint64_t serial);
  bool steady() const noexcept;
  void answer_resizes();
  PoolInfo info() const;

  // Routing (pool_routing.cpp). route() takes the envelope: it forwards it, holds it, or makes
  // it a dead letter.
  void route(Envelope* env) noexcept;
  void flush_held() noexcept;
  void hold(Envelope* env) noexcept;
  std::optional<std::size_t> pick(Envelope& env);
  std::optional<std::size_t> next_running(std::size_t from) const noexcept;
  std::optional<std::size_t> smallest() noexcept;
  std::optional<std::size_t> by_key(std::uint64_t key) const noexcept;
  void broadcast(Envelope* env) noexcept;
  void forward(Envelope* env, const DynamicHandle& to) noexcept;
  void reject(Envelope* env, DeadLetter::Reason reason) noexcept;

  PoolInit init_;
  SupervisorHandle supervisor_;
  std::vector<Slot> slots_;  // in routing order: oldest first
  std::vector<Retiring> retiring_;
  std::deque<Envelope*> held_;  // owned: waiting for the routees to start (or one to restart)
  std::uint64_t next_serial_ = 0;
  std::size_t cursor_ = 0;  // round_robin, smallest_mailbox: where the next search starts
  std::size_t restarts_ = 0;
  std::mt19937_64 random_;
  std::vector<Promise<void>> resizes_;  // answered once steady()
};

}  // namespace troupe::detail
