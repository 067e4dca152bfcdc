// The pool's router, part 2: choosing a routee for each envelope and forwarding it there, as it
// is: a request keeps its reply address, id and timeout, so the routee answers the requester.
#include "pool_router.hpp"

#include <troupe/system.hpp>

#include <algorithm>
#include <cstdint>
#include <string>

namespace troupe::detail {
namespace {

// SplitMix64's finaliser: spreads keys whose std::hash is the identity (integers in libstdc++).
std::uint64_t mix(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Jump consistent hashing (Lamping and Veach, 2014): a bucket in [0, buckets) for `key`, with no
// table; from n to n+1 buckets, exactly the keys that move go to bucket n.
std::size_t jump_hash(std::uint64_t key, std::size_t buckets) noexcept {
  std::int64_t b = -1;
  std::int64_t j = 0;
  while (j < static_cast<std::int64_t>(buckets)) {
    b = j;
    key = key * 2862933555777941757ULL + 1;
    j = static_cast<std::int64_t>(static_cast<double>(b + 1) *
                                  (static_cast<double>(std::int64_t{1} << 31) / static_cast<double>((key >> 33) + 1)));
  }
  return static_cast<std::size_t>(b);
}

}  // namespace

void PoolRouter::route(Envelope* env) noexcept {
  // Routees still starting: hold everything, in order, so the first messages reach all of them.
  const bool starting = std::any_of(slots_.begin(), slots_.end(), [](const Slot& s) { return !s.started; });
  if (starting || !held_.empty()) {
    hold(env);
    return;
  }
  std::optional<std::size_t> at;
  switch (init_.spec.routing) {
    case Routing::round_robin:
      at = next_running(cursor_);
      if (at) cursor_ = *at + 1;
      break;
    case Routing::random:
      if (!slots_.empty()) at = next_running(static_cast<std::size_t>(random_() % slots_.size()));
      break;
    case Routing::smallest_mailbox:
      at = smallest();
      break;
    case Routing::consistent_hash: {
      std::optional<std::uint64_t> key;
      try {
        if (init_.spec.key) key = init_.spec.key(*env);
      } catch (...) {  // a throwing key function: as if it had no key for this message
      }
      if (!key) {
        reject(env, DeadLetter::Reason::unhandled);
        return;
      }
      at = by_key(*key);
      break;
    }
    case Routing::broadcast:
      broadcast(env);
      return;
  }
  if (!at) {
    hold(env);  // every routee is restarting: the first one back takes it
    return;
  }
  forward(env, slots_[*at].routee);
}

// Kept, in order, until a routee starts; a pool without routees (resized to 0) refuses at once.
void PoolRouter::hold(Envelope* env) noexcept {
  if (slots_.empty()) {
    reject(env, DeadLetter::Reason::receiver_stopped);
    return;
  }
  try {
    held_.push_back(env);
  } catch (...) {  // no memory to hold it
    reject(env, DeadLetter::Reason::receiver_stopped);
  }
}

void PoolRouter::flush_held() noexcept {
  if (std::any_of(slots_.begin(), slots_.end(), [](const Slot& s) { return !s.started; })) return;
  std::deque<Envelope*> held;
  held.swap(held_);
  for (Envelope* env : held) route(env);
}

std::optional<std::size_t> PoolRouter::next_running(std::size_t from) const noexcept {
  const std::size_t n = slots_.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t s = (from + i) % n;
    if (slots_[s].routee.valid()) return s;
  }
  return std::nullopt;
}

// The running routee with the fewest messages counted by its mailbox; ties go to the first one
// from the cursor on, so idle routees take turns.
std::optional<std::size_t> PoolRouter::smallest() noexcept {
  const std::size_t n = slots_.size();
  std::optional<std::size_t> best;
  std::uint32_t fewest = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t s = (cursor_ + i) % n;
    if (!slots_[s].routee.valid()) continue;
    const runtime::MailboxLimit* limit = slots_[s].routee.core()->mailbox_limit();
    const std::uint32_t queued = limit != nullptr ? limit->queued() : 0;
    if (!best || queued < fewest) {
      best = s;
      fewest = queued;
      if (queued == 0) break;
    }
  }
  if (best) cursor_ = *best + 1;
  return best;
}

// The key's routee; while it restarts, the key is hashed again (the same key always takes the
// same detour), and as a last resort the next running routee takes it.
std::optional<std::size_t> PoolRouter::by_key(std::uint64_t key) const noexcept {
  const std::size_t n = slots_.size();
  if (n == 0) return std::nullopt;
  std::uint64_t k = mix(key);
  std::size_t s = 0;
  for (int attempt = 0; attempt < 8; ++attempt) {
    s = jump_hash(k, n);
    if (slots_[s].routee.valid()) return s;
    k = mix(k);
  }
  return next_running(s);
}

// A copy to each running routee but the last, which gets the envelope itself.
void PoolRouter::broadcast(Envelope* env) noexcept {
  if (env->kind() == EnvelopeKind::request) {
    send_response_error(env->reply().reply_to, env->reply().request_id,
                        Error{Errc::unexpected_message,
                              std::string("troupe::Pool: a request cannot be broadcast (send it as a message, "
                                          "or route it another way): ") += env->type()->name});
    dispose(env);
    return;
  }
  const auto op =
      std::find_if(init_.ops.begin(), init_.ops.end(), [&](const MessageOps& o) { return o.type == env->type(); });
  if (op == init_.ops.end() || op->copy == nullptr) {  // not one of the routees' (copyable) types
    reject(env, DeadLetter::Reason::unhandled);
    return;
  }
  std::optional<std::size_t> last;
  for (std::size_t s = 0; s < slots_.size(); ++s) {
    if (!slots_[s].routee.valid()) continue;
    if (last) {
      try {
        forward(op->copy(*env), slots_[*last].routee);
      } catch (...) {  // no memory for the copy: that routee misses it
      }
    }
    last = s;
  }
  if (!last) {
    hold(env);
    return;
  }
  forward(env, slots_[*last].routee);
}

// One push: the envelope moves on with its reply header as it is. A routee that has stopped
// meanwhile makes it a dead letter there (a request gets dead_actor).
void PoolRouter::forward(Envelope* env, const DynamicHandle& to) noexcept { (void)deliver(to.core(), env); }

void PoolRouter::reject(Envelope* env, DeadLetter::Reason reason) noexcept {
  system().dead_letter(*this, *env, reason);  // answers a request with the matching error
  dispose(env);
}

}  // namespace troupe::detail
