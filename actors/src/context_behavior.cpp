// Context, part 4: changing behavior (become / unbecome) and the user's stash. Everything here
// lives in ActorExtras::behavior, allocated on first use: an actor that never calls these pays
// one flag test per message (kBecame, in run_handler) and no bytes.
#include <troupe/behavior.hpp>
#include <troupe/context.hpp>

#include "actor_extras.hpp"

#include <stdexcept>
#include <utility>

namespace troupe {
namespace {

detail::BehaviorState& state_of(detail::ActorExtras& x) {
  if (!x.behavior) x.behavior = std::make_unique<detail::BehaviorState>();
  return *x.behavior;
}

}  // namespace

void Context::become_erased(std::unique_ptr<detail::BehaviorBase> next, bool keep) {
  auto& s = state_of(extras());
  // Room first: nothing changes if memory runs out.
  s.behaviors.reserve(s.behaviors.size() + 1);
  s.retired.reserve(s.retired.size() + 1);
  if (!keep && !s.behaviors.empty()) {
    // The handler running now may belong to the replaced behavior: retire it, not destroy it.
    s.retired.push_back(std::move(s.behaviors.back()));
    s.behaviors.back() = std::move(next);
  } else {
    s.behaviors.push_back(std::move(next));
  }
  layer_flags_ |= kBecame;
}

void Context::unbecome() {
  if (extras_ == nullptr || !extras_->behavior || extras_->behavior->behaviors.empty()) return;
  auto& s = *extras_->behavior;
  s.retired.reserve(s.retired.size() + 1);
  s.retired.push_back(std::move(s.behaviors.back()));
  s.behaviors.pop_back();
}

const detail::BehaviorBase* Context::became() const noexcept {
  if (extras_ == nullptr || !extras_->behavior || extras_->behavior->behaviors.empty()) return nullptr;
  return extras_->behavior->behaviors.back().get();
}

// Only with kBecame set: dispatches to the top of the become stack, or, back at the bottom, to the
// initial behavior (and clears the flag: from then on the actor dispatches as one that never became).
void Context::dispatch_became(Envelope& env) {
  auto& s = *extras_->behavior;
  s.retired.clear();  // no handler of theirs runs now
  if (s.behaviors.empty()) {
    layer_flags_ &= static_cast<std::uint8_t>(~kBecame);
    dispatch(env);
    return;
  }
  // The top stays alive while its handler runs, even if the handler becomes another behavior.
  s.behaviors.back()->dispatch(*this, env);
}

void Context::stash() {
  Envelope* env = current_message();
  if (env == nullptr || current_actor() != this ||
      (extras_ != nullptr && extras_->task.handle && extras_->task.message == env)) {
    throw std::logic_error(
        "troupe: stash() outside a handler of this actor, or in a coroutine handler (one that returns "
        "troupe::Task): stash in a handler that does not return Task");
  }
  if ((layer_flags_ & kEnvelopeAdopted) != 0) return;  // stashed already
  auto& s = state_of(extras());
  s.stashed.reserve(s.stashed.size() + 1);  // may throw: before anything changes
  runtime::ActorCore* reply_to =
      has_reply_header(env->kind()) ? std::exchange(env->reply().reply_to, nullptr) : nullptr;
  s.stashed.push_back({env, reply_to});
  layer_flags_ |= kEnvelopeAdopted;  // handle_message leaves the envelope to the stash
  // Counted again until it is handled for good: a bounded mailbox bounds the stash too. (A Down
  // or Exit made from a signal was never counted; it is from now on, and is handled again as a
  // counted message.)
  if (runtime::MailboxLimit* limit = mailbox_limit()) limit->reserve();
}

void Context::unstash_all() {
  if (extras_ == nullptr || !extras_->behavior || extras_->behavior->stashed.empty()) return;
  auto& x = *extras_;
  auto& stashed = x.behavior->stashed;
  // Before everything not handled yet, which waits in x.stash (and then the mailbox); after the
  // Downs and Exits made from signals at its front, which overtake user messages.
  const auto at = static_cast<std::ptrdiff_t>(x.urgent_in_stash);
  x.stash.insert(x.stash.begin() + at, stashed.size(), nullptr);  // may throw: then nothing changed
  for (std::size_t i = 0; i < stashed.size(); ++i) {
    Envelope* env = stashed[i].env;
    if (stashed[i].reply_to != nullptr) env->reply().reply_to = stashed[i].reply_to;
    x.stash[static_cast<std::size_t>(at) + i] = env;
  }
  stashed.clear();
}

std::size_t Context::stashed() const noexcept {
  return extras_ != nullptr && extras_->behavior ? extras_->behavior->stashed.size() : 0;
}

// Stopping: stashed messages become dead letters (a request's requester is answered), before those
// of the coroutine stash, which came later; the behaviors go with the state.
void Context::end_behaviors() noexcept {
  if (extras_ == nullptr || !extras_->behavior) return;
  auto& s = *extras_->behavior;
  for (auto& entry : s.stashed) {
    if (entry.reply_to != nullptr) entry.env->reply().reply_to = entry.reply_to;
    dead_letter(entry.env);
  }
  s.stashed.clear();
  s.behaviors.clear();
  s.retired.clear();
  layer_flags_ &= static_cast<std::uint8_t>(~kBecame);
}

}  // namespace troupe
