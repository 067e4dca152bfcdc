// The table of senders muted on overloaded actors (overload_registry.hpp).
#include "overload_registry.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace troupe::runtime::overload {
namespace {

// Sharded by receiver, so that unrelated overloads never meet on one mutex. Each shard is a map
// from receiver to the senders muted on it (each holding a reference).
struct Shard {
  std::mutex mutex;
  std::unordered_map<ActorCore*, std::vector<ActorCore*>> muted;
};

constexpr std::size_t kShards = 16;

class Registry {
 public:
  Shard& shard(const ActorCore* receiver) noexcept {
    // Actors are at least 64 bytes apart: the low bits say nothing.
    return shards_[(reinterpret_cast<std::uintptr_t>(receiver) >> 6) % kShards];
  }

 private:
  std::array<Shard, kShards> shards_;
};

Registry& registry() {
  static Registry instance;
  return instance;
}

}  // namespace

void add_muted(ActorCore* receiver, ActorCore* sender) {
  Shard& shard = registry().shard(receiver);
  std::lock_guard lock(shard.mutex);
  shard.muted[receiver].push_back(sender);  // may throw: nothing registered
  sender->add_ref();
  // Seq_cst: pairs with the receiver's seq_cst park (ActorCore::park_muted).
  receiver->flags_.fetch_or(ActorCore::kHoldsSenders, std::memory_order_seq_cst);
}

bool withdraw(ActorCore* receiver, ActorCore* sender) noexcept {
  Shard& shard = registry().shard(receiver);
  {
    std::lock_guard lock(shard.mutex);
    auto it = shard.muted.find(receiver);
    if (it == shard.muted.end()) return false;
    auto& senders = it->second;
    auto found = std::find(senders.begin(), senders.end(), sender);
    if (found == senders.end()) return false;
    senders.erase(found);
    if (senders.empty()) {
      shard.muted.erase(it);
      // Relaxed: under the lock, like every change of this bit; it only lets the receiver park.
      receiver->flags_.fetch_and(static_cast<std::uint8_t>(~ActorCore::kHoldsSenders), std::memory_order_relaxed);
    }
  }
  sender->release();
  return true;
}

void release_all(ActorCore* receiver) noexcept {
  std::vector<ActorCore*> senders;
  {
    Shard& shard = registry().shard(receiver);
    std::lock_guard lock(shard.mutex);
    auto it = shard.muted.find(receiver);
    if (it == shard.muted.end()) return;
    senders = std::move(it->second);
    shard.muted.erase(it);
    // Relaxed: under the lock (see withdraw).
    receiver->flags_.fetch_and(static_cast<std::uint8_t>(~ActorCore::kHoldsSenders), std::memory_order_relaxed);
  }
  // Outside the lock: unmuting schedules, and a release may destroy the sender.
  for (ActorCore* sender : senders) {
    sender->unmute();
    sender->release();
  }
}

}  // namespace troupe::runtime::overload
