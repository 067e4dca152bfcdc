// The node's monitor of the local actors it exports. An exported actor (a requester, a watcher or
// linker of a remote actor, a lookup result) is kept alive by the node's export table so a peer
// can reach it by id; this core monitors each one, and its Down, handled on the transport thread,
// drops the export: the table holds only actors that are still running. A peer's message for a
// dropped id is then a dead letter, as for an id never exported (a request gets dead_actor).
#pragma once

#include "node_core.hpp"

#include <troupe/runtime/actor_core.hpp>

#include <memory>

namespace troupe::transport::detail {

class ExportWatcher final : public runtime::ActorCore {
 public:
  explicit ExportWatcher(std::shared_ptr<NodeCore> node) noexcept;

  // Transport thread: each Down drops the export the monitor's ref names.
  runtime::TurnResult resume() noexcept override;
  std::string_view name() const noexcept override { return "export watcher"; }
  // Once the node has stopped, by the consumer of its mailbox (the pusher that found it empty,
  // or stop() for a watcher left on the ready list): drops every Down. A Down holds its actor,
  // and an actor may hold its monitors until it is destroyed: kept, they would make a cycle.
  void discard_all() noexcept;

 private:
  ~ExportWatcher() override = default;
  void destroy() noexcept override;  // Downs that came after the node stopped are dropped
  void drop_queued() noexcept;       // the mailbox's consumer: drops every Down in it

  // Keeps the node (its executor) alive while exported actors may still send it their Down; the
  // node drops its handle to this core when it stops, which breaks the cycle.
  std::shared_ptr<NodeCore> node_;
};

}  // namespace troupe::transport::detail
