// The pool's router, part 1: the actor — starting the supervisor and its routees, the control
// requests, and routees starting, failing and retiring. Routing itself is in pool_routing.cpp.
#include "pool_router.hpp"

#include <troupe/runtime/pool.hpp>
#include <troupe/spawn.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

namespace troupe::detail {
namespace {

std::string child_id(std::uint64_t serial) { return std::string("routee-") += std::to_string(serial); }

// Normal and shutdown: the supervisor does not restart a transient child after them.
bool stopped_for_good(const ExitReason& reason) noexcept {
  return reason.kind == ExitReason::Kind::normal || reason.kind == ExitReason::Kind::shutdown;
}

}  // namespace

runtime::ActorCore* launch_pool(System& system, PoolInit init) {
  return PoolAccess::launch<PoolRouter>(system, SpawnOptions{}, nullptr, std::move(init));
}

PoolRouter::PoolRouter(System& system, runtime::Executor* executor, PoolInit&& init)
    : ActorCell(system, executor), init_(std::move(init)), random_(init_.spec.seed) {
  static const ActorTypeId type = intern_actor_type("troupe::Pool");
  type_id_ = type;
}

void PoolRouter::destroy() noexcept {
  this->~PoolRouter();
  runtime::pool_free(this, sizeof(PoolRouter));
}

// First turn: the supervisor, linked to the router, with the first routees as its children.
// Linked both ways: if the supervisor gives up, the router stops with its reason; if the router
// stops (StopPool, a failure, shutdown), the supervisor stops the routees in order.
void PoolRouter::construct() {
  std::vector<ChildSpec> children;
  children.reserve(init_.spec.size);
  for (std::size_t i = 0; i < init_.spec.size; ++i) {
    slots_.push_back(Slot{next_serial_, {}, {}, false});
    children.push_back(routee_spec(next_serial_++));
  }
  SupervisorSpec spec;
  spec.strategy = Strategy::one_for_one;
  spec.max_restarts = init_.spec.max_restarts;
  spec.period = init_.spec.period;
  supervisor_ = spawn_supervisor(std::move(spec), std::move(children));
}

void PoolRouter::destruct() noexcept {
  while (!held_.empty()) {
    reject(held_.front(), DeadLetter::Reason::receiver_stopped);
    held_.pop_front();
  }
  resizes_.clear();  // a dropped promise answers its requester with an error
  slots_.clear();
  retiring_.clear();
  supervisor_ = {};
  init_ = {};
}

// Transient: restarted after a failure only, so a routee told to retire stays stopped. Each start
// (the first, and every restart) tells the router the new routee's handle.
ChildSpec PoolRouter::routee_spec(std::uint64_t serial) {
  SpawnOptions options;
  if (init_.spec.routing == Routing::smallest_mailbox) {
    // A bounded mailbox that is never full: its count is what "smallest" compares.
    options.mailbox_capacity = std::numeric_limits<std::uint32_t>::max();
    options.overflow = Overflow::fail;
  }
  ChildSpec spec;
  spec.id = child_id(serial);
  spec.restart = Restart::transient;
  spec.shutdown = init_.spec.shutdown;
  spec.start = [spawn = init_.spawn, options, router = self(), serial](Context& supervisor) {
    DynamicHandle routee = spawn(supervisor, options);
    router.send(RouteeUp{serial, routee});
    return routee;
  };
  return spec;
}

void PoolRouter::dispatch(Envelope& env) {
  if (env.is(message_type<RouteeUp>)) {
    on_up(payload<RouteeUp>(env));
  } else if (env.is(message_type<Down>)) {
    on_down(payload<Down>(env));
  } else if (env.is(message_type<ResizePool>)) {
    auto promise = this->promise<void>();
    resize(payload<ResizePool>(env).size);
    resizes_.push_back(std::move(promise));
    answer_resizes();
  } else if (env.is(message_type<GetPoolInfo>)) {
    this->promise<PoolInfo>().deliver(info());
  } else if (env.is(message_type<StopPool>)) {
    this->promise<void>().deliver();
    quit(ExitReason::shutdown());  // the supervisor, linked, stops the routees in order
  } else {
    // Everything else is for a routee: the turn loop leaves the envelope to route(), which
    // forwards it as it is (reply address and all) or disposes of it.
    layer_flags_ |= kEnvelopeAdopted;
    route(&env);
  }
}

void PoolRouter::add_slot() {
  const std::uint64_t serial = next_serial_++;
  slots_.push_back(Slot{serial, {}, {}, false});
  supervisor_.send(StartChild{routee_spec(serial)});  // one-way: RouteeUp says it started
}

void PoolRouter::resize(std::size_t size) {
  while (slots_.size() < size) add_slot();
  while (slots_.size() > size) {
    Slot slot = std::move(slots_.back());
    slots_.pop_back();
    retiring_.push_back(Retiring{slot.serial, slot.ref});
    // Behind what its mailbox holds. One still starting or restarting is told when it is up.
    if (slot.routee.valid()) slot.routee.send(RetireRoutee{});
  }
  flush_held();  // growing holds messages until the new routees are up; shrinking may end a wait
}

void PoolRouter::on_up(RouteeUp& up) {
  for (Slot& slot : slots_) {
    if (slot.serial != up.serial) continue;
    if (slot.started) ++restarts_;
    slot.started = true;
    slot.routee = std::move(up.routee);
    // A Down of the incarnation before may still come: its ref no longer matches.
    slot.ref = monitor(slot.routee);
    flush_held();
    answer_resizes();
    return;
  }
  // Retired before it was up (or restarted while retiring): it retires now.
  auto r = std::find_if(retiring_.begin(), retiring_.end(), [&](const Retiring& x) { return x.serial == up.serial; });
  if (r == retiring_.end()) r = retiring_.insert(retiring_.end(), Retiring{up.serial, {}});
  r->ref = monitor(up.routee);
  up.routee.send(RetireRoutee{});
}

void PoolRouter::on_down(Down& down) {
  if (!down.ref) return;
  for (auto s = slots_.begin(); s != slots_.end(); ++s) {
    if (s->ref != down.ref) continue;
    if (stopped_for_good(down.reason)) {  // quit on its own: the pool shrinks by one
      forget_child(s->serial);
      slots_.erase(s);
      flush_held();  // held for it alone, perhaps
    } else {         // the supervisor restarts it; until then routing skips it
      s->routee = {};
      s->ref = {};
    }
    answer_resizes();
    return;
  }
  for (auto r = retiring_.begin(); r != retiring_.end(); ++r) {
    if (r->ref != down.ref) continue;
    if (stopped_for_good(down.reason)) {
      forget_child(r->serial);
      retiring_.erase(r);
    } else {
      r->ref = {};  // failed while draining: its restart is retired in on_up
    }
    answer_resizes();
    return;
  }
}

// The child's exit reached the supervisor before this (a stopping actor signals its links before
// its monitors), so the supervisor knows it stopped: the spec goes.
void PoolRouter::forget_child(std::uint64_t serial) { supervisor_.send(DeleteChild{child_id(serial)}); }

bool PoolRouter::steady() const noexcept {
  return retiring_.empty() && std::all_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.routee.valid(); });
}

void PoolRouter::answer_resizes() {
  if (resizes_.empty() || !steady()) return;
  for (auto& promise : resizes_) promise.deliver();
  resizes_.clear();
}

PoolInfo PoolRouter::info() const {
  PoolInfo info;
  info.size = slots_.size();
  for (const Slot& slot : slots_) {
    if (slot.routee.valid()) ++info.running;
    info.routees.push_back(slot.routee);
  }
  info.restarts = restarts_;
  info.retiring = retiring_.size();
  return info;
}

}  // namespace troupe::detail
