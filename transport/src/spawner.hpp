// The node's built-in spawner actor (spawn.hpp): what it may start, and the actor itself.
#pragma once

#include <troupe/message.hpp>
#include <troupe/system.hpp>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace troupe::transport::detail {

// The spawner's export id on every node: a peer's spawner is reachable without a lookup.
inline constexpr std::uint64_t kSpawnerId = 1;

// The spawnable types of one node. Shared by the node and its spawner actor (which may run after
// the node is gone, for a request already on its way); guarded by `mutex`.
struct Spawnables {
  struct Entry {
    const MessageType* args_type;
    std::function<DynamicHandle(System&, Envelope&)> make;
  };
  std::mutex mutex;
  std::map<std::string, Entry, std::less<>> entries;
};

DynamicHandle spawn_spawner(System& system, std::shared_ptr<Spawnables> spawnables);

}  // namespace troupe::transport::detail
