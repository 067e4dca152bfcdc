// How System::spawn builds an actor: one pooled block holding the actor cell and, in the same
// storage, first what the state is made from (the function or the constructor's arguments) and
// then, from the actor's first turn on, the state itself. No message is needed to start it.
#pragma once

#include <troupe/behavior.hpp>
#include <troupe/context.hpp>
#include <troupe/system.hpp>
#include <troupe/runtime/pool.hpp>

#include <concepts>
#include <limits>
#include <memory>
#include <new>
#include <tuple>
#include <type_traits>
#include <utility>

namespace troupe {
namespace detail {

template <class Beh>
struct FunctionState {
  Beh beh;
  Beh& behavior() noexcept { return beh; }
};

template <class C>
using class_behavior_t = decltype(std::declval<C&>().behavior());

template <class C>
struct ClassState {
  template <class... A>
  ClassState(Context& self, A&&... args) : object(make(self, std::forward<A>(args)...)), beh(object.behavior()) {}
  class_behavior_t<C>& behavior() noexcept { return beh; }

  C object;
  class_behavior_t<C> beh;

 private:
  // Guaranteed copy elision lets C be neither copyable nor movable.
  template <class... A>
  static C make(Context& self, A&&... args) {
    if constexpr (std::is_constructible_v<C, Context&, A...>) {
      return C(self, std::forward<A>(args)...);
    } else {
      static_assert(std::is_constructible_v<C, A...>,
                    "troupe: a class actor must be constructible from (troupe::Context&, args...) or (args...)");
      return C(std::forward<A>(args)...);
    }
  }
};

// Init payloads: what the first turn needs to build the state.
template <class F, class... A>
struct FunctionInit {
  F init;
  std::tuple<A...> args;
  template <class State>
  void build(Context& self, void* where) {
    std::apply([&](A&... a) { new (where) State{init(self, std::move(a)...)}; }, args);
  }
};

template <class... A>
struct ClassInit {
  std::tuple<A...> args;
  template <class State>
  void build(Context& self, void* where) {
    std::apply([&](A&... a) { new (where) State(self, std::move(a)...); }, args);
  }
};

template <class State, class Init, class Named>
class ActorBlock final : public ActorCell {
 public:
  ActorBlock(System& system, runtime::Executor* executor, Init&& init) : ActorCell(system, executor) {
    type_id_ = actor_type_of<Named>();
    new (storage_) Init(std::move(init));
  }
  std::string_view name() const noexcept override { return troupe::detail::type_name<Named>(); }
  // From the behavior's type: safe from any thread, also before the first turn builds the state.
  bool handles(const MessageType* type) const noexcept override {
    return std::remove_cvref_t<decltype(std::declval<State&>().behavior())>::handles(type);
  }

 private:
  // The state is built from a local copy of Init, since both live in the same storage.
  void construct() override {
    Init init(std::move(stored_init()));
    stored_init().~Init();
    init_consumed_ = true;
    init.template build<State>(*this, storage_);
  }
  void dispatch(Envelope& env) override { state().behavior().dispatch(*this, env); }
  void destruct() noexcept override { state().~State(); }
  void destroy() noexcept override {
    if (!init_consumed_) stored_init().~Init();  // stopped before its first turn
    this->~ActorBlock();
    runtime::pool_free(this, sizeof(ActorBlock));
  }
  State& state() noexcept { return *std::launder(reinterpret_cast<State*>(storage_)); }
  Init& stored_init() noexcept { return *std::launder(reinterpret_cast<Init*>(storage_)); }

  static constexpr std::size_t kAlign = alignof(State) > alignof(Init) ? alignof(State) : alignof(Init);
  static constexpr std::size_t kSize = sizeof(State) > sizeof(Init) ? sizeof(State) : sizeof(Init);
  bool init_consumed_ = false;
  alignas(kAlign) unsigned char storage_[kSize];
};

template <class M>
class SendTask final : public runtime::TimerTask {
 public:
  SendTask(DynamicHandle target, M message) : target_(std::move(target)), message_(std::move(message)) {}
  void fire() noexcept override {
    try {
      target_.send(M(message_));
    } catch (...) {  // allocation failure: the timer's message is lost, the timer thread lives on
    }
  }

 private:
  DynamicHandle target_;
  M message_;
};

}  // namespace detail

template <class Block, class Init>
runtime::ActorCore* System::launch(SpawnOptions options, detail::ActorCell* link_to, Init&& init) {
  static_assert(alignof(Block) <= 64, "troupe: actor state aligned beyond 64 bytes is not supported");
  std::unique_ptr<runtime::MailboxLimit> limit;
  if (options.mailbox_capacity != 0 || options.mailbox_bytes != 0) {
    const std::uint32_t capacity =
        options.mailbox_capacity != 0 ? options.mailbox_capacity : std::numeric_limits<std::uint32_t>::max();
    limit = std::make_unique<runtime::MailboxLimit>(capacity, options.overflow, options.mailbox_bytes, room_waiter());
    limit->release_one_at_a_time();  // the cell releases the rest whenever it drains (actor_cell.cpp)
  }
  void* memory = runtime::pool_allocate(sizeof(Block));
  Block* block;
  try {
    block = new (memory) Block(*this, executor_for(options), std::move(init));
  } catch (...) {
    runtime::pool_free(memory, sizeof(Block));
    throw;
  }
  block->add_ref();  // one for the handle we return; the first is the actor's own until it stops
  block->set_budget(options.budget != 0 ? options.budget : budget_);
  block->set_mailbox_limit(limit.release());
  if (link_to != nullptr) {
    try {
      link_to->link_unstarted(*block);  // before start(): no turn of the child can miss it
    } catch (...) {
      block->release();
      block->release();  // never started: nothing else holds it (destroy() frees the init)
      throw;
    }
  }
  register_actor(block);
  block->start();  // the first turn constructs the state
  return block;
}

template <class F, class... A>
auto System::spawn_function(SpawnOptions options, detail::ActorCell* link_to, F&& init, A&&... args) {
  using Beh = std::invoke_result_t<std::decay_t<F>&, Context&, std::decay_t<A>&&...>;
  static_assert(is_behavior<Beh>::value, "troupe: an actor function must return troupe::behavior(...)");
  using State = detail::FunctionState<Beh>;
  using Init = detail::FunctionInit<std::decay_t<F>, std::decay_t<A>...>;
  using Block = detail::ActorBlock<State, Init, std::decay_t<F>>;
  auto* core = launch<Block>(options, link_to, Init{std::forward<F>(init), {std::forward<A>(args)...}});
  return Beh::handle_type::adopt(core);
}

template <class Impl, class... A>
auto System::spawn_class(SpawnOptions options, detail::ActorCell* link_to, A&&... args) {
  using Beh = detail::class_behavior_t<Impl>;
  static_assert(is_behavior<Beh>::value, "troupe: a class actor's behavior() must return troupe::behavior(...)");
  using State = detail::ClassState<Impl>;
  using Init = detail::ClassInit<std::decay_t<A>...>;
  using Block = detail::ActorBlock<State, Init, Impl>;
  auto* core = launch<Block>(options, link_to, Init{{std::forward<A>(args)...}});
  return Beh::handle_type::adopt(core);
}

template <class M>
Timer System::send_after(const DynamicHandle& target, Duration delay, M&& message) {
  return add_timer(delay, TimerKind::once,
                   std::make_unique<detail::SendTask<std::decay_t<M>>>(target, std::forward<M>(message)));
}

template <class M>
Timer System::send_every(const DynamicHandle& target, Duration period, M&& message) {
  return add_timer(period, TimerKind::every,
                   std::make_unique<detail::SendTask<std::decay_t<M>>>(target, std::forward<M>(message)));
}

template <class M>
Timer Context::send_after(const DynamicHandle& target, Duration delay, M&& message) {
  return system().send_after(target, delay, std::forward<M>(message));
}

template <class M>
Timer Context::send_every(const DynamicHandle& target, Duration period, M&& message) {
  return system().send_every(target, period, std::forward<M>(message));
}

template <class F, class... A>
  requires std::invocable<std::decay_t<F>&, Context&, std::decay_t<A>&&...>
auto Context::spawn(F&& init, A&&... args) {
  return system().spawn(std::forward<F>(init), std::forward<A>(args)...);
}

template <class Impl, class... A>
  requires requires(Impl& impl) { impl.behavior(); }
auto Context::spawn(A&&... args) {
  return system().template spawn<Impl>(std::forward<A>(args)...);
}

template <class F, class... A>
  requires std::invocable<std::decay_t<F>&, Context&, std::decay_t<A>&&...>
auto Context::spawn_link(F&& init, A&&... args) {
  return system().spawn_function(SpawnOptions{}, &cell(), std::forward<F>(init), std::forward<A>(args)...);
}

template <class F, class... A>
  requires std::invocable<std::decay_t<F>&, Context&, std::decay_t<A>&&...>
auto Context::spawn_link(SpawnOptions options, F&& init, A&&... args) {
  return system().spawn_function(options, &cell(), std::forward<F>(init), std::forward<A>(args)...);
}

template <class Impl, class... A>
  requires requires(Impl& impl) { impl.behavior(); }
auto Context::spawn_link(A&&... args) {
  return system().template spawn_class<Impl>(SpawnOptions{}, &cell(), std::forward<A>(args)...);
}

template <class Impl, class... A>
  requires requires(Impl& impl) { impl.behavior(); }
auto Context::spawn_link(SpawnOptions options, A&&... args) {
  return system().template spawn_class<Impl>(options, &cell(), std::forward<A>(args)...);
}

}  // namespace troupe
