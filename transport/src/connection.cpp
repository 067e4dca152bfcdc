#include "connection.hpp"

#include "envelope_decoder.hpp"
#include "envelope_frame.hpp"
#include "handle_codec.hpp"
#include "node_core.hpp"
#include "plain_failure.hpp"
#include "remote_actor.hpp"

#include <troupe/message.hpp>
#include <troupe/transport/wire_type.hpp>

#include <capnp/serialize-async.h>
#include <capnp/serialize.h>
#include <kj/debug.h>

#include <algorithm>

namespace troupe::transport::detail {
namespace {

// After authentication: the configured frame size, in a few segments (a builder grows by segments).
constexpr std::size_t kMaxSegments = 64;
// Envelopes per frame (the writer batches what has queued meanwhile, up to this).
constexpr std::size_t kMaxEnvelopesPerFrame = 4096;

}  // namespace

Connection::Connection(NodeCore& node, kj::Own<kj::AsyncIoStream> stream, Peer* dialed_peer, std::string local_host,
                       PeerAddress from, HandshakeSlots::Slot handshake_slot)
    : node_(node),
      stream_(kj::mv(stream)),
      handshake_slot_(std::move(handshake_slot)),
      reader_(*stream_),
      handshake_(node, *this, dialed_peer, std::move(local_host), std::move(from)),
      heartbeat_(node.loop().timer(), node.config()) {}

Connection::~Connection() {
  if (flow_) flow_->close();
}

std::string Connection::describe() const {
  const Peer* p = peer();
  return std::string(dialled() ? "connection to " : "connection from ") +
         (p != nullptr ? "node '" + p->name + "'" : std::string("an unauthenticated peer"));
}

void Connection::close() {
  closed_here_ = true;
  if (flow_) flow_->close();  // what its peer's messages return later grants nothing to a newer connection
  canceler_.cancel("connection closed");
}

kj::Promise<void> Connection::run() {
  return canceler_.wrap(handshake_.run().then([this]() {
    authenticated_ = true;
    handshake_slot_.reset();  // another connection may take its place in the handshakes
    heartbeat_.heard();  // the handshake's last frame
    Peer& peer = *handshake_.peer();
    const NodeConfig& config = node_.config();
    // The peer may now send a whole window; granted before anything else this side writes.
    flow_ =
        std::make_shared<InboundFlow>(node_.weak_from_this(), peer, config.receive_window, config.receive_window_bytes);
    // What the peer accepts, from its hello: this side cuts its frames and refuses messages by it.
    // A peer that states nothing (or too little to hold a message) is held to this node's own limit.
    const std::uint64_t stated_max = handshake_.peer_max_frame();
    const std::uint64_t stated =
        stated_max > kFrameOverheadBytes ? std::min(stated_max, kLargestFrameBytes) : config.max_frame_bytes;
    peer.outbox.set_max_frame_bytes(stated);
    node_.connections().on_authenticated(*this, peer, handshake_.peer_incarnation());  // grants the peer that window
    return read_loop().exclusiveJoin(heartbeat_.run([this]() {
      if (!writing_) start_write(heartbeat_frame(heartbeat_.next_times()));
    }));
  }));
}

kj::Promise<void> Connection::read_loop() {
  const FrameLimits limits{kMaxSegments, node_.config().max_frame_bytes};
  return reader_.next(limits).then([this](ReadFrame read) -> kj::Promise<void> {
    if (read.message.get() == nullptr) return kj::READY_NOW;  // the peer closed
    heartbeat_.heard();                                       // any frame shows the peer alive
    node_.loop().note_activity();
    handshake_.peer()->counts.bytes_in += read.bytes;
    handle(*read.message);
    node_.proxies().sweep_if_grown();  // between frames: each proxy a frame made has its reference
    return read_loop();
  });
}

// A lookup, or a link or monitor of an actor that is not here, queues an answer the peer takes
// only as it reads: one that keeps asking without reading is closed at kMaxQueuedControls.
void Connection::require_room_for_answer(const Peer& peer) const {
  if (peer.outbox.controls_and_signals() >= kMaxQueuedControls) {
    fail_plainly(kj::str("it asks faster than it reads the answers: ", kMaxQueuedControls,
                         " answers to its lookups, links and monitors wait for it"));
  }
}

// A request is answered by a response the peer takes only as it reads (and grants credit): one
// that keeps asking while its responses pile up past their bound, and the errors that replaced
// them past a quarter more (Outbox::room_for_response), is closed.
void Connection::require_room_for_response(const Peer& peer) const {
  if (peer.outbox.responses_overflowing()) {
    fail_plainly(kj::str("it asks faster than it takes the responses: ", peer.outbox.response_bytes(),
                         " bytes of responses to its requests wait for it, past the bound of ",
                         peer.outbox.response_bound(), " (NodeConfig::max_outbound_response_bytes)"));
  }
}

void Connection::handle(capnp::MessageReader& frame) {
  Peer& peer = *handshake_.peer();
  auto root = frame.getRoot<wire::Frame>();
  switch (root.which()) {
    case wire::Frame::ENVELOPES:
      handle_envelopes(root.getEnvelopes());
      return;
    case wire::Frame::LOOKUP: {
      require_room_for_answer(peer);
      const Lookup lookup = read_lookup(root.getLookup());
      LookupReply reply{lookup.id, false, 0};
      if (auto actor = node_.system().whereis(lookup.name)) {
        reply.found = true;
        reply.actor_id = node_.exports().export_actor(actor->core());
      }
      peer.outbox.push(reply);
      node_.dialler().flush(peer);
      return;
    }
    case wire::Frame::LOOKUP_REPLY: {
      const LookupReply reply = read_lookup_reply(root.getLookupReply());
      node_.lookups().answered(reply.id, peer, reply.found, reply.actor_id);
      return;
    }
    case wire::Frame::HEARTBEAT:
      // Its arrival is what keeps the connection (read_loop); its times may give the round trip.
      if (auto rtt = heartbeat_.heard_beat(read_heartbeat(root.getHeartbeat()))) peer.counts.rtt = *rtt;
      return;
    case wire::Frame::SIGNAL:
      require_room_for_answer(peer);  // a link or monitor of an actor not here is answered
      node_.liveness().on_signal(peer, read_signal(root.getSignal()));
      return;
    case wire::Frame::GRANT: {
      const Grant grant = read_grant(root.getGrant());
      peer.outbox.granted(grant.envelopes, grant.bytes);
      node_.dialler().flush(peer);
      return;
    }
    case wire::Frame::CREDIT_V1:
      KJ_FAIL_REQUIRE("a protocol 1 credit frame");
    case wire::Frame::DUPLICATE_NAME:
      // This node took the connection, but the dialer is connected to another live node of this
      // node's name (ConnectionSet::name_taken).
      fail_plainly(kj::str("node '", peer.name.c_str(), "' refused this node: duplicate node name '",
                           node_.config().name.c_str(), "' (it is connected to another live node of this name)"));
    case wire::Frame::HELLO:
    case wire::Frame::PROOF:
    case wire::Frame::INCARNATION:
      KJ_FAIL_REQUIRE("handshake frame after authentication");
  }
  KJ_FAIL_REQUIRE("unknown frame kind (a newer protocol?)");
}

void Connection::handle_envelopes(capnp::List<wire::Envelope>::Reader envelopes) {
  Peer& peer = *handshake_.peer();
  std::uint32_t returned_now = 0;  // responses and dead letters: their credit goes back at once
  std::uint64_t returned_now_bytes = 0;
  delivered_.clear();
  peer.counts.envelopes_in += envelopes.size();
  auto delivered_to = [this](runtime::ActorCore* target, std::uint64_t bytes) {
    for (Delivered& d : delivered_) {
      if (d.actor == target) {
        ++d.envelopes;
        d.bytes += bytes;
        return;
      }
    }
    delivered_.push_back(Delivered{target, 1, bytes});
  };
  for (auto in : envelopes) {
    NodeCounters::add(node_.counters().received);
    const IncomingTypeNames::Type& type = names_in_.resolve(in);
    const std::uint64_t bytes = envelope_wire_bytes(
        in.hasMessageType() ? std::optional(in.getMessageType().size()) : std::nullopt, in.getPayload().size());
    const EnvelopeKind local_kind = envelope_kind(in.getKind());
    if (local_kind == EnvelopeKind::request) require_room_for_response(peer);
    RemoteActor* requester = local_kind == EnvelopeKind::request && in.getSender() != 0
                                 ? node_.proxies().proxy(peer, in.getSender())
                                 : nullptr;
    auto answer_error = [&](Errc code, std::string what) {
      if (requester == nullptr) return;
      requester->add_ref();  // the response's target holds no reference; send_response borrows
      troupe::detail::send_response_error(requester, in.getRequestId(), Error{code, std::move(what)});
      requester->release();
    };
    runtime::ActorCore* target = node_.exports().exported(in.getReceiver());
    const WireTypeInfo* info = type.info;
    if (target == nullptr || info == nullptr) {
      NodeCounters::add(node_.counters().dead);
      answer_error(target == nullptr ? Errc::dead_actor : Errc::unexpected_message,
                   target == nullptr ? "no such actor on node " + node_.config().name
                                     : type.name + " is not declared on node " + node_.config().name);
      ++returned_now;
      returned_now_bytes += bytes;
      continue;
    }
    // A response goes only to a request of this node's that waits for it. One nobody asked for, or
    // one that comes after its requester stopped waiting a while ago (PendingRequests::sweep), is
    // a dead letter here rather than a payload queued in an actor's mailbox. Answered: a node-down
    // no longer fails the request.
    if (local_kind == EnvelopeKind::response && !node_.requests().untrack(peer, in.getReceiver(), in.getRequestId())) {
      NodeCounters::add(node_.counters().dead);
      ++returned_now;
      returned_now_bytes += bytes;
      continue;
    }
    Envelope* env = nullptr;
    {
      PeerHandleCodec handles(node_, peer);  // handles in the message resolve through the sending peer
      env = decode_envelope_payload(*info, local_kind, in, &handles);
    }
    if (local_kind == EnvelopeKind::response) {
      env->reply().request_id = in.getRequestId();
      target->enqueue(env);
      ++returned_now;
      returned_now_bytes += bytes;
      continue;
    }
    if (local_kind == EnvelopeKind::request) {
      if (requester != nullptr) requester->add_ref();  // the request's reply_to holds a reference
      env->reply().reply_to = requester;
      env->reply().request_id = in.getRequestId();
    }
    if (in.getUrgent()) env->mark_urgent();
    (void)troupe::detail::deliver_as_marked(target, env);
    delivered_to(target, bytes);
  }
  // Each actor takes its token after the envelopes above (its mailbox is FIFO) and disposes of it
  // as a response to no request (ids start at 1): that returns their credit.
  for (const Delivered& d : delivered_) {
    auto* token = make_envelope<CreditToken>(EnvelopeKind::response, CreditToken{flow_, d.envelopes, d.bytes});
    d.actor->enqueue(token);
  }
  if (returned_now != 0) flow_->returned(returned_now, returned_now_bytes);
}

void Connection::write_pending() {
  Peer* p = peer();
  if (writing_ || p == nullptr) return;
  FrameBuilder frame = next_frame(*p);
  if (frame.get() == nullptr) return;
  start_write(kj::mv(frame));
}

// Controls first, then signals, then as many envelopes as the peer's credit allows.
FrameBuilder Connection::next_frame(Peer& peer) {
  Outbox& out = peer.outbox;
  if (auto control = out.take_control()) return control_frame(*control);
  if (auto signal = out.take_signal()) return signal_frame(*signal);
  if (out.envelopes().empty() || out.credit() == 0) return FrameBuilder();
  const std::size_t n = envelopes_for_next_frame(peer);
  if (n == 0) return FrameBuilder();  // the first waits for byte credit
  auto frame = kj::heap<capnp::MallocMessageBuilder>();
  // Written: they leave the outbound queue (the frame's bytes are bounded by the credit).
  out.written(n, write_envelope_frame(frame->initRoot<wire::Frame>(), out.envelopes(), n, names_out_));
  peer.counts.envelopes_out += n;
  return frame;
}

// How many of the queued envelopes the next frame takes: as many as the peer's credit (envelopes
// and bytes) allows, up to kMaxEnvelopesPerFrame and about kFrameTargetBytes (or half what the
// peer accepts, if less); an envelope larger than that goes alone. One that would not fit in any
// frame the peer accepts (its limit shrank since the send weighed it: a restarted peer) is
// dropped here, before the wire, rather than closing the connection.
std::size_t Connection::envelopes_for_next_frame(Peer& peer) {
  Outbox& out = peer.outbox;
  auto& queued = out.envelopes();
  const std::uint64_t peer_limit = out.max_frame_bytes();
  while (!queued.empty() && queued.front().wire_bytes(true) > max_envelope_bytes(peer_limit)) {
    node_.dead_letters().drop_unsendable(peer, queued.front());
    queued.pop_front();
  }
  const std::size_t most = std::min(kMaxEnvelopesPerFrame, static_cast<std::size_t>(out.credit()));
  return plan_envelope_frame(queued, names_out_, most, out.credit_bytes(),
                             std::min<std::uint64_t>(kFrameTargetBytes, peer_limit / 2));
}

void Connection::start_write(FrameBuilder frame) {
  writing_ = true;
  // A failed write needs no handling here: the broken stream fails the read loop too, which
  // closes the connection with its reason.
  node_.loop().tasks().add(canceler_.wrap(write_frame(kj::mv(frame)).then([this]() {
    writing_ = false;
    write_pending();
  })));
}

kj::Promise<void> Connection::write_frame(FrameBuilder frame) {
  auto& builder = *frame;
  heartbeat_.wrote();
  if (authenticated_) {  // the handshake's frames are not the peer's traffic (PeerCounts)
    handshake_.peer()->counts.bytes_out += capnp::computeSerializedSizeInWords(builder) * sizeof(capnp::word);
  }
  // kj's write may throw at once (a reset connection fails the first writev synchronously):
  // evalNow turns that into a rejected promise, handled like any other failed write.
  return kj::evalNow([&] { return capnp::writeMessage(*stream_, builder); }).attach(kj::mv(frame));
}

}  // namespace troupe::transport::detail
