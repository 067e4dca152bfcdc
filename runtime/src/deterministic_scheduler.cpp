#include <troupe/runtime/deterministic_scheduler.hpp>

#include <iterator>

namespace troupe::runtime {

void DeterministicScheduler::schedule(ActorCore* actor) noexcept {
  std::lock_guard lock(mutex_);
  auto [it, first_time] = rank_.try_emplace(actor, next_rank_);
  if (first_time) ++next_rank_;
  ready_.emplace(it->second, actor);
}

bool DeterministicScheduler::run_one() noexcept {
  ActorCore* actor;
  bool sampled;
  {
    std::lock_guard lock(mutex_);
    if (ready_.empty()) return false;
    auto it = std::next(ready_.begin(), static_cast<std::ptrdiff_t>(random_.below(ready_.size())));
    actor = it->second;
    ready_.erase(it);
    ++turns_;
    sampled = sampler_.next();
  }
  // Unlocked: the turn schedules other actors (and, through `more`, perhaps this one again).
  const TurnResult result = sampled ? actor->resume_sampled() : actor->resume();
  {
    std::lock_guard lock(mutex_);
    if (result == TurnResult::more) {
      ready_.emplace(rank_.at(actor), actor);
    } else if (result == TurnResult::terminated) {
      // Never scheduled again; the address may be reused by a new actor, which gets a new rank.
      rank_.erase(actor);
    }
  }
  // Its own reference, now the turn is over; unlocked, since what it frees may send (and schedule).
  if (result == TurnResult::terminated) actor->release();
  return true;
}

std::uint64_t DeterministicScheduler::run_until_idle() noexcept {
  std::uint64_t n = 0;
  while (run_one()) ++n;
  return n;
}

bool DeterministicScheduler::idle() const noexcept {
  std::lock_guard lock(mutex_);
  return ready_.empty();
}

std::uint64_t DeterministicScheduler::turns() const noexcept {
  std::lock_guard lock(mutex_);
  return turns_;
}

}  // namespace troupe::runtime
