// The links and monitors between this node's actors and one peer's, by actor ids (remote: the
// peer's; local: this node's exports): what a node-down must undo (Liveness::node_down). The
// signals that make and end them keep them (RemoteActor on the way out, Liveness on the way in).
// Transport thread only.
#pragma once

#include <cstdint>
#include <set>
#include <tuple>
#include <utility>

namespace troupe::transport::detail {

class Ties {
 public:
  using Link = std::pair<std::uint64_t, std::uint64_t>;                     // (remote actor, local actor)
  using Monitor = std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>;  // (remote actor, local watcher, ref)
  using Watcher = std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>;  // (local actor, remote watcher, ref)

  void link(std::uint64_t remote, std::uint64_t local) { links_.emplace(remote, local); }
  void unlink(std::uint64_t remote, std::uint64_t local) { links_.erase({remote, local}); }
  // A local watcher monitors a remote actor.
  void monitor(std::uint64_t remote, std::uint64_t watcher, std::uint64_t ref) {
    monitors_.emplace(remote, watcher, ref);
  }
  void demonitor(std::uint64_t remote, std::uint64_t watcher, std::uint64_t ref) {
    monitors_.erase({remote, watcher, ref});
  }
  // A remote watcher monitors a local actor.
  void watch(std::uint64_t local, std::uint64_t watcher, std::uint64_t ref) { watchers_.emplace(local, watcher, ref); }
  void unwatch(std::uint64_t local, std::uint64_t watcher, std::uint64_t ref) {
    watchers_.erase({local, watcher, ref});
  }

  const std::set<Link>& links() const noexcept { return links_; }
  const std::set<Monitor>& monitors() const noexcept { return monitors_; }
  const std::set<Watcher>& watchers() const noexcept { return watchers_; }
  void clear() noexcept {
    links_.clear();
    monitors_.clear();
    watchers_.clear();
  }

 private:
  std::set<Link> links_;
  std::set<Monitor> monitors_;
  std::set<Watcher> watchers_;
};

}  // namespace troupe::transport::detail
