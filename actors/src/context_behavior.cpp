// Changing behavior (become / unbecome) and the user's stash: the verbs (Context) and the cell's
// side (dispatching to the top behavior, and what stopping does). Everything here lives in the
// cell's BehaviorState, allocated on first use: an actor that never calls these pays one flag
// test per message (kBecame, in run_handler) and no bytes.
#include <troupe/actor_cell.hpp>
#include <troupe/behavior.hpp>

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
  detail::ActorCell& c = cell();
  auto& s = state_of(c.extras());
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
  c.layer_flags_ |= detail::ActorCell::kBecame;
}

void Context::unbecome() {
  detail::ActorExtras* x = cell().extras_;
  if (x == nullptr || !x->behavior || x->behavior->behaviors.empty()) return;
  auto& s = *x->behavior;
  s.retired.reserve(s.retired.size() + 1);
  s.retired.push_back(std::move(s.behaviors.back()));
  s.behaviors.pop_back();
}

const detail::BehaviorBase* detail::ActorCell::became() const noexcept {
  if (extras_ == nullptr || !extras_->behavior || extras_->behavior->behaviors.empty()) return nullptr;
  return extras_->behavior->behaviors.back().get();
}

// Only with kBecame set: dispatches to the top of the become stack, or, back at the bottom, to the
// initial behavior (and clears the flag: from then on the actor dispatches as one that never became).
void detail::ActorCell::dispatch_became(Envelope& env) {
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
  detail::ActorCell& c = cell();
  Envelope* env = plain_handler_message();
  if (env == nullptr) {
    throw std::logic_error(
        "troupe: stash() outside a handler of this actor, or in a coroutine handler (one that returns "
        "troupe::Task): stash in a handler that does not return Task");
  }
  if ((c.layer_flags_ & detail::ActorCell::kEnvelopeAdopted) != 0) return;  // stashed already
  auto& s = state_of(c.extras());
  s.stashed.reserve(s.stashed.size() + 1);  // may throw: before anything changes
  runtime::ActorCore* reply_to =
      has_reply_header(env->kind()) ? std::exchange(env->reply().reply_to, nullptr) : nullptr;
  s.stashed.push_back({env, reply_to});
  s.stashed_since_marker = true;
  c.layer_flags_ |= detail::ActorCell::kEnvelopeAdopted;  // handle_message leaves the envelope to the stash
  // Counted again until it is handled for good: a bounded mailbox bounds the stash too. (A Down
  // or Exit made from a signal was never counted; it is from now on, and is handled again as a
  // counted message.) A mailbox bounded in bytes counts its weight again too, weighed as it will
  // be when it is taken for good (a handler that moved out of it has already changed both).
  if (runtime::MailboxLimit* limit = c.mailbox_limit()) limit->reserve(detail::ActorCell::counted_bytes(*limit, *env));
}

void Context::unstash_all() {
  detail::ActorExtras* x = cell().extras_;
  if (x == nullptr || !x->behavior || x->behavior->stashed.empty()) return;
  auto& stashed = x->behavior->stashed;
  // Before everything not handled yet, which is set aside (and then in the mailbox); after the
  // Downs and Exits made from signals, which overtake user messages.
  std::size_t i = 0;
  x->set_aside.put_back(stashed.size(), [&] {
    auto& entry = stashed[i++];
    if (entry.reply_to != nullptr) entry.env->reply().reply_to = entry.reply_to;
    return entry.env;
  });
  stashed.clear();
  // Each marker goes back behind its messages, and is kept again if one of them is stashed again.
  x->behavior->markers = 0;
  x->behavior->stashed_since_marker = false;
}

bool detail::ActorCell::keep_marker_with_stash(Envelope* marker) noexcept {
  if (extras_ == nullptr || !extras_->behavior || !extras_->behavior->stashed_since_marker) return false;
  auto& s = *extras_->behavior;
  try {
    s.stashed.push_back({marker, nullptr});
  } catch (...) {  // no memory to keep it: disposed of now, its credit returned early
    return false;
  }
  ++s.markers;
  s.stashed_since_marker = false;
  return true;
}

std::size_t Context::stashed() const noexcept {
  const detail::ActorExtras* x = cell().extras_;
  return x != nullptr && x->behavior ? x->behavior->stashed.size() - x->behavior->markers : 0;
}

// Stopping: stashed messages become dead letters (a request's requester is answered), before those
// of the coroutine stash, which came later; the markers kept with them are only disposed of (no
// message of anyone's is lost with them); the behaviors go with the state.
void detail::ActorCell::end_behaviors() noexcept {
  if (extras_ == nullptr || !extras_->behavior) return;
  auto& s = *extras_->behavior;
  for (auto& entry : s.stashed) {
    if (entry.env->kind() == EnvelopeKind::response) {  // a marker: the user stashes no response
      dispose(entry.env);
      continue;
    }
    if (entry.reply_to != nullptr) entry.env->reply().reply_to = entry.reply_to;
    dead_letter(entry.env);
  }
  s.stashed.clear();
  s.markers = 0;
  s.stashed_since_marker = false;
  s.behaviors.clear();
  s.retired.clear();
  layer_flags_ &= static_cast<std::uint8_t>(~kBecame);
}

}  // namespace troupe
