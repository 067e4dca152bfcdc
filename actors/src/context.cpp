// The user's verbs on a Context (context.hpp): stopping, links and monitors. Each works on a
// part of the actor cell (actor_cell.hpp): the book of links and monitors, the exit reason.
// Behavior changes and the stash are in context_behavior.cpp; requests in actor_cell_requests.cpp;
// the receive timeout in receive_timeout.cpp.
#include <troupe/context.hpp>

#include "actor_extras.hpp"

#include <stdexcept>
#include <utility>

namespace troupe {

void Context::quit(ExitReason reason) { cell().begin_stopping(std::move(reason)); }

MonitorRef Context::monitor(const DynamicHandle& target) {
  detail::ActorCell& c = cell();
  return c.extras().links.monitor(c.self(), target);
}

void Context::demonitor(MonitorRef ref) {
  detail::ActorCell& c = cell();
  if (c.extras_ == nullptr || c.extras_->links.demonitor(&c, ref)) return;
  // Its Down may have come while a coroutine awaited: it waits among the messages set aside.
  if (Envelope* down = c.extras_->set_aside.take_down(ref)) dispose(down);  // made from a signal: never counted
}

void Context::link(const DynamicHandle& target) {
  detail::ActorCell& c = cell();
  if (!target.valid()) {  // an empty handle stands for no actor: noproc, at once
    detail::send_signal(&c, detail::Signal::exit({}, ExitReason::noproc()));
    return;
  }
  if (target.core() == &c) return;
  c.extras().links.link(c.self(), target);
}

void Context::unlink(const DynamicHandle& target) {
  detail::ActorCell& c = cell();
  if (c.extras_ == nullptr || !target.valid()) return;
  c.extras_->links.unlink(c.self(), target);
}

void Context::trap_exits(bool on) noexcept {
  detail::ActorCell& c = cell();
  if (on) {
    c.layer_flags_ |= detail::ActorCell::kTrapExits;
  } else {
    c.layer_flags_ &= static_cast<std::uint8_t>(~detail::ActorCell::kTrapExits);
  }
}

Envelope* Context::plain_handler_message() noexcept {
  detail::ActorCell& c = cell();
  Envelope* env = detail::current_message();
  if (env == nullptr || detail::ActorCell::current_actor() != &c) return nullptr;
  // A coroutine handler keeps its message, and its reply is its co_return.
  if (c.extras_ != nullptr && c.extras_->task.handle && c.extras_->task.message == env) return nullptr;
  return env;
}

Envelope& Context::message_to_delegate() {
  Envelope* env = plain_handler_message();
  if (env == nullptr) {
    throw std::logic_error(
        "troupe: delegate() outside a handler of this actor, or in a coroutine handler (one that returns "
        "troupe::Task): a coroutine answers with co_return co_await self.request(...)");
  }
  return *env;
}

void Context::forward_current(runtime::ActorCore* target) {
  Envelope* env = plain_handler_message();
  detail::ActorCell& c = cell();
  if (env == nullptr) throw std::logic_error("troupe: AnyMessage::forward() outside its catch-all's turn");
  // Once delivered it is the target's, which may have handled and freed it already: the
  // handling here must not dispose of it (as for a stashed message), nor look at it again.
  if ((c.layer_flags_ & detail::ActorCell::kEnvelopeAdopted) != 0)
    throw std::logic_error("troupe: AnyMessage::forward() of a message stashed already");
  c.layer_flags_ |= detail::ActorCell::kEnvelopeAdopted;
  detail::forget_current_message();  // promise(), stash() and delegate() find no message now
  detail::deliver_as_marked(target, env);  // a refused request answers its requester
}

void Context::exit(const DynamicHandle& target, ExitReason reason) {
  if (!target.valid()) return;
  detail::send_signal(target.core(), detail::Signal::exit(self(), std::move(reason)));
}

}  // namespace troupe
