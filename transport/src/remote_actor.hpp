// A remote actor, as this node sees it: an ActorCore whose executor is the node. Senders push into
// its mailbox like into any actor's; the node's transport thread drains it, serializing each
// message for the peer's connection (FIFO per sender, as the mailbox is). Its sends count against
// the peer's outbound limit (NodeConfig::max_outbound_queue, max_outbound_bytes), which it borrows:
// the usual bounded mailbox machinery (deliver_bounded) then mutes sending actors or makes sending
// threads wait. Before a sender counts a message there, admit() refuses what cannot cross (a type
// not declared for the wire, a message larger than the peer accepts) as a dead letter, so the
// send returns the error, and weighs the rest by their encoded size.
#pragma once

#include "node_core.hpp"

#include <troupe/runtime/actor_core.hpp>
#include <troupe/signals.hpp>
#include <troupe/system.hpp>
#include <troupe/transport/wire_type.hpp>

#include <memory>
#include <optional>

namespace troupe::transport::detail {

class RemoteActor final : public runtime::ActorCore {
 public:
  RemoteActor(std::shared_ptr<NodeCore> node, Peer& peer, std::uint64_t remote_id) noexcept;

  // Transport thread: serializes what the mailbox holds into the peer's outbound queue.
  runtime::TurnResult resume() noexcept override;
  std::string_view name() const noexcept override { return "remote actor"; }
  // Any sender, before it counts a message or request against the outbound limit.
  runtime::Admission admit(runtime::MailboxLink& message) noexcept override;

  Peer& peer() const noexcept { return *peer_; }
  std::uint64_t remote_id() const noexcept { return remote_id_; }
  // Transport thread: the peer's connection was lost, so this actor is gone for good (a restarted
  // peer reuses ids). Messages become dead letters, requests fail with node_down, a monitor gets
  // Down node_down and a link the exit signal node_down, at once.
  void mark_dead() noexcept { dead_ = true; }
  const NodeCore* owner() const noexcept { return node_.get(); }
  // Transport thread: the peer reported that this actor stopped (a Down, or a linked exit signal).
  // Later monitors and links are answered here, as a stopped local actor answers them: its node
  // forgets a stopped actor (ExportWatcher), so it could only answer noproc.
  void mark_stopped(const ExitReason& reason) {
    if (!stopped_) stopped_ = reason;
  }
  // Once the node has stopped, by the consumer of its mailbox (the pusher that found it empty,
  // or stop() for one left on the ready list): drops what it holds at once, as destroy() does. A
  // message may hold a handle to this actor (a member list naming the peer it goes to), or to a
  // local actor that holds one: kept until the last handle goes, it would keep this actor, and
  // through it the node, alive for ever.
  void discard_all() noexcept;

 private:
  ~RemoteActor() override { set_mailbox_limit(nullptr); }  // the peer owns the limit
  // Messages never sent (the node stopped first) are dead letters: requests get dead_actor.
  void destroy() noexcept override;
  // The mailbox's consumer: drops every message in it, as above (destroy, discard_all).
  void drop_queued() noexcept;
  void serialize(Envelope* env) noexcept;
  // A signal from a local actor to this one: answered here if this actor is gone, else put on the
  // wire (to_wire).
  void send_signal(troupe::detail::Signal& signal);
  void to_wire(troupe::detail::Signal& signal);
  // A counted message that will not reach the wire leaves the outbound count.
  void uncount(const Envelope& env) noexcept;
  // What a message or request of a declared type counts against the outbound bytes, and takes
  // of a frame at most: its envelope with the payload's encoded size (wire_type.hpp's `size`).
  static std::uint64_t weight(const WireTypeInfo& info, const Envelope& env) noexcept;
  runtime::Admission refuse(Envelope& env, DeadLetter::Reason reason) noexcept;
  // A response the peer's response bound has no room for (NodeConfig::max_outbound_response_bytes).
  void refuse_response(std::string_view type, std::uint64_t bytes, std::uint64_t request_id);

  std::shared_ptr<NodeCore> node_;
  // Shared with the peer's directory entry, and kept after the directory forgets the peer: this
  // actor's mailbox borrows the peer's outbound bound. Only a dead actor outlives the entry
  // (IdlePeers forgets no peer with a live remote actor), and a dead one uses the peer only to
  // name it.
  std::shared_ptr<Peer> peer_;
  std::uint64_t remote_id_;
  bool dead_ = false;                  // transport thread only
  std::optional<ExitReason> stopped_;  // transport thread only
};

}  // namespace troupe::transport::detail
