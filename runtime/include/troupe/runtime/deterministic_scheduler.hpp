// An executor for tests: no threads. schedule() only records an actor as ready; whoever drives
// the scheduler runs one turn at a time, and a seeded generator picks which ready actor goes
// next. The same seed, with the same program, gives the same order of turns every time, so a test
// can try many interleavings and replay a failing one from its seed.
#pragma once

#include <troupe/runtime/actor_core.hpp>
#include <troupe/runtime/turn_sampler.hpp>

#include <cstdint>
#include <map>
#include <mutex>
#include <unordered_map>

namespace troupe::runtime {

// splitmix64: a tiny generator whose whole sequence is fixed by its seed (on every platform, unlike
// the distributions of <random>). Picking the next actor needs spread, not cryptographic quality.
class SeededRandom {
 public:
  explicit SeededRandom(std::uint64_t seed) noexcept : state_(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // A number in [0, bound); bound > 0. The modulo bias is irrelevant for scheduling choices.
  std::uint64_t below(std::uint64_t bound) noexcept { return next() % bound; }

 private:
  std::uint64_t state_;
};

class DeterministicScheduler final : public Executor {
 public:
  explicit DeterministicScheduler(std::uint64_t seed) noexcept : random_(seed), seed_(seed) {}
  DeterministicScheduler(const DeterministicScheduler&) = delete;
  DeterministicScheduler& operator=(const DeterministicScheduler&) = delete;

  // Executor: the actor is ready; it runs when the driver picks it.
  void schedule(ActorCore* actor) noexcept override;

  // Picks one ready actor with the seeded generator and runs one turn of it on the calling
  // thread. Returns false when no actor was ready.
  bool run_one() noexcept;
  // run_one() until no actor is ready; returns the number of turns run.
  std::uint64_t run_until_idle() noexcept;

  bool idle() const noexcept;
  std::uint64_t seed() const noexcept { return seed_; }
  std::uint64_t turns() const noexcept;

 private:
  // Ready actors keyed by the order in which each was first scheduled (an actor's first
  // scheduling is its start, in spawn order), not by address: the choice among them must not
  // depend on where the allocator put an actor, nor on the order in which a shutdown found them.
  mutable std::mutex mutex_;  // the driver's thread is the only one in a deterministic test; the
                              // lock only keeps a stray sender from another thread from corrupting it
  std::unordered_map<ActorCore*, std::uint64_t> rank_;  // every actor seen and not yet terminated
  std::map<std::uint64_t, ActorCore*> ready_;
  std::uint64_t next_rank_ = 0;
  std::uint64_t turns_ = 0;
  detail::TurnSampler sampler_;  // which turns the metrics sample (the same ones in every run)
  SeededRandom random_;
  std::uint64_t seed_;
};

}  // namespace troupe::runtime
