#include "connection.hpp"

#include "advertised_host.hpp"
#include "codec_context.hpp"
#include "envelope_decoder.hpp"
#include "remote_actor.hpp"

#include <troupe/message.hpp>
#include <troupe/transport/wire_type.hpp>

#include <capnp/serialize-async.h>
#include <kj/debug.h>

namespace troupe::transport::detail {
namespace {

// Before authentication a peer may send only a small hello or proof.
constexpr FrameLimits kHandshakeLimits{1, 1024};
// After it: the configured frame size, in a few segments (a builder grows by segments).
constexpr std::size_t kMaxSegments = 64;
// Envelopes per frame (the writer batches what has queued meanwhile, up to this).
constexpr std::size_t kMaxEnvelopesPerFrame = 4096;

kj::ArrayPtr<const kj::byte> bytes_of(const Nonce& n) { return kj::arrayPtr(n.data(), n.size()); }

Nonce nonce_from(capnp::Data::Reader data) {
  KJ_REQUIRE(data.size() == Nonce{}.size(), "handshake nonce has the wrong size");
  Nonce n{};
  std::copy(data.begin(), data.end(), n.begin());
  return n;
}

}  // namespace

Connection::Connection(NodeCore& node, kj::Own<kj::AsyncIoStream> stream, Peer* dialed_peer, std::string local_host)
    : node_(node),
      stream_(kj::mv(stream)),
      reader_(*stream_),
      peer_(dialed_peer),
      role_(dialed_peer != nullptr ? Role::dialer : Role::listener),
      local_host_(std::move(local_host)),
      last_read_(node.timer().now()),
      last_write_(last_read_) {}

Connection::~Connection() {
  if (flow_) flow_->close();
}

std::string Connection::describe() const {
  return std::string(role_ == Role::dialer ? "connection to " : "connection from ") +
         (peer_ != nullptr ? "node '" + peer_->name + "'" : std::string("an unauthenticated peer"));
}

void Connection::close() {
  if (flow_) flow_->close();  // what its peer's messages return later grants nothing to a newer connection
  canceler_.cancel("connection closed");
}

kj::Promise<void> Connection::run() {
  auto handshake = role_ == Role::dialer ? dialer_handshake() : listener_handshake();
  // A peer that stalls anywhere before it is authenticated is closed at the deadline.
  auto authenticated = node_.handshake_deadline(handshake.then([this]() { return exchange_incarnations(); }), true);
  return canceler_.wrap(authenticated.then([this]() {
    authenticated_ = true;
    // The peer may now send a whole window; granted before anything else this side writes.
    flow_ = std::make_shared<InboundFlow>(node_.weak_from_this(), *peer_, node_.config().receive_window,
                                          node_.config().receive_window_bytes);
    // What the peer accepts, from its hello: this side cuts its frames and refuses messages by it.
    // A peer that states nothing (or too little to hold a message) is held to this node's own limit.
    const std::uint64_t stated = peer_max_frame_ > kFrameOverheadBytes ? std::min(peer_max_frame_, kLargestFrameBytes)
                                                                       : node_.config().max_frame_bytes;
    peer_->max_frame_bytes.store(stated, std::memory_order_relaxed);  // relaxed: see Peer::max_frame_bytes
    node_.on_authenticated(*this, *peer_, peer_incarnation_);         // grants the peer that window
    return read_loop().exclusiveJoin(heartbeat_loop());
  }));
}

// After the handshake. The dialer sends its incarnation first; the listener reads it, then decides
// whether to keep this connection (NodeCore::keep_incoming: two nodes that dialled each other at
// once keep only the connection the lower-named one dialled) and answers with its own incarnation,
// or with 0: "a duplicate, closed; my own connection to you is the one".
kj::Promise<void> Connection::exchange_incarnations() {
  auto frame_of = [](std::uint64_t incarnation) {
    auto frame = kj::heap<capnp::MallocMessageBuilder>();
    frame->initRoot<wire::Frame>().setIncarnation(incarnation);
    return frame;
  };
  auto read_incarnation = [this]() {
    return reader_.next(kHandshakeLimits).then([](ReadFrame read) {
      KJ_REQUIRE(read.message.get() != nullptr, "peer closed during the handshake");
      auto root = read.message->getRoot<wire::Frame>();
      KJ_REQUIRE(root.isIncarnation(), "expected the peer's incarnation");
      return root.getIncarnation();
    });
  };
  if (role_ == Role::dialer) {
    return write_frame(frame_of(node_.incarnation()))
        .then([read_incarnation]() { return read_incarnation(); })
        .then([this](std::uint64_t theirs) {
          if (theirs == 0) {
            duplicate_ = true;
            KJ_FAIL_REQUIRE("a duplicate: the peer keeps its own connection to this node");
          }
          peer_incarnation_ = theirs;
          last_read_ = node_.timer().now();
        });
  }
  return read_incarnation().then([this, frame_of](std::uint64_t theirs) {
    KJ_REQUIRE(theirs != 0, "expected the peer's incarnation");
    const bool keep = node_.keep_incoming(*peer_, theirs);
    return write_frame(frame_of(keep ? node_.incarnation() : 0)).then([this, keep, theirs]() {
      KJ_REQUIRE(keep, "a duplicate: this node keeps its own connection to the peer");
      peer_incarnation_ = theirs;
      last_read_ = node_.timer().now();
    });
  });
}

kj::Promise<void> Connection::heartbeat_loop() {
  const kj::Duration interval = to_kj(node_.config().heartbeat_interval);
  const kj::Duration timeout = to_kj(node_.config().heartbeat_timeout);
  // Checked a few times per interval, so a quiet side sends within a quarter interval late.
  const kj::Duration tick = kj::max(kj::min(interval, timeout) / 4, 1 * kj::MILLISECONDS);
  return node_.timer().afterDelay(tick).then([this, interval, timeout]() -> kj::Promise<void> {
    const kj::TimePoint now = node_.timer().now();
    if (now - last_read_ >= timeout) return KJ_EXCEPTION(DISCONNECTED, "no heartbeat");
    if (!writing_ && now - last_write_ >= interval) {
      auto beat = kj::heap<capnp::MallocMessageBuilder>();
      beat->initRoot<wire::Frame>().setHeartbeat();
      start_write(kj::mv(beat));
    }
    return heartbeat_loop();
  });
}

kj::Promise<void> Connection::dialer_handshake() {
  const Nonce mine = make_nonce();
  auto hello = kj::heap<capnp::MallocMessageBuilder>();
  auto h = hello->initRoot<wire::Frame>().initHello();
  h.setProtocolVersion(wire::PROTOCOL_VERSION);
  h.setNodeName(node_.config().name);
  h.setNonce(bytes_of(mine));
  h.setListenHost(advertised_host(node_.config(), local_host_));
  h.setListenPort(node_.port());
  h.setMaxFrameBytes(node_.config().max_frame_bytes);
  return write_frame(kj::mv(hello))
      .then([this]() { return reader_.next(kHandshakeLimits); })
      .then([this, mine](ReadFrame read) {
        KJ_REQUIRE(read.message.get() != nullptr, "peer closed during the handshake");
        auto& frame = read.message;
        auto root = frame->getRoot<wire::Frame>();
        KJ_REQUIRE(root.isHello(), "expected the listener's hello");
        auto hello = root.getHello();
        KJ_REQUIRE(hello.getProtocolVersion() == wire::PROTOCOL_VERSION, "unsupported protocol version",
                   hello.getProtocolVersion());
        peer_max_frame_ = hello.getMaxFrameBytes();
        const std::string listener_name = hello.getNodeName();
        KJ_REQUIRE(listener_name == peer_->name, "peer answered with another node's name", listener_name);
        const Nonce theirs = nonce_from(hello.getNonce());
        const std::string& secret = node_.config().secret;
        const Mac expected = handshake_mac(secret, Role::listener, node_.config().name, peer_->name, mine, theirs);
        auto proof = hello.getProof();
        if (!proof_matches(expected, proof.begin(), proof.size())) {
          node_.refused.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
          KJ_FAIL_REQUIRE("handshake refused: the listener could not prove the shared secret");
        }
        auto answer = kj::heap<capnp::MallocMessageBuilder>();
        const Mac mac = handshake_mac(secret, Role::dialer, node_.config().name, peer_->name, mine, theirs);
        answer->initRoot<wire::Frame>().initProof().setMac(kj::arrayPtr(mac.data(), mac.size()));
        return write_frame(kj::mv(answer));
      });
}

kj::Promise<void> Connection::listener_handshake() {
  FrameLimits first_limits = kHandshakeLimits;
  first_limits.detect_tls = true;  // a TLS node dialling this plaintext one
  return reader_.next(first_limits).then([this](ReadFrame read) {
    if (read.tls_client) {
      node_.refused.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
      KJ_FAIL_REQUIRE("a TLS client connected to this plaintext node");
    }
    KJ_REQUIRE(read.message.get() != nullptr, "peer closed during the handshake");
    auto& frame = read.message;
    auto root = frame->getRoot<wire::Frame>();
    KJ_REQUIRE(root.isHello(), "expected the dialer's hello");
    auto hello = root.getHello();
    KJ_REQUIRE(hello.getProtocolVersion() == wire::PROTOCOL_VERSION, "unsupported protocol version",
               hello.getProtocolVersion());
    peer_max_frame_ = hello.getMaxFrameBytes();
    std::string dialer_name = hello.getNodeName();
    KJ_REQUIRE(!dialer_name.empty() && dialer_name.size() <= 128, "bad node name");
    KJ_REQUIRE(dialer_name != node_.config().name, "peer uses this node's own name");
    const Nonce theirs = nonce_from(hello.getNonce());
    const Nonce mine = make_nonce();
    const std::string& secret = node_.config().secret;
    const Mac mac = handshake_mac(secret, Role::listener, dialer_name, node_.config().name, theirs, mine);
    auto reply = kj::heap<capnp::MallocMessageBuilder>();
    auto h = reply->initRoot<wire::Frame>().initHello();
    h.setProtocolVersion(wire::PROTOCOL_VERSION);
    h.setNodeName(node_.config().name);
    h.setNonce(bytes_of(mine));
    h.setProof(kj::arrayPtr(mac.data(), mac.size()));
    h.setListenHost(advertised_host(node_.config(), local_host_));
    h.setListenPort(node_.port());
    h.setMaxFrameBytes(node_.config().max_frame_bytes);
    std::pair<std::string, std::uint16_t> dialer_address{hello.getListenHost().cStr(), hello.getListenPort()};
    return write_frame(kj::mv(reply))
        .then([this]() { return reader_.next(kHandshakeLimits); })
        .then([this, theirs, mine, dialer_name = kj::mv(dialer_name),
               dialer_address = kj::mv(dialer_address)](ReadFrame read) mutable {
          KJ_REQUIRE(read.message.get() != nullptr, "peer closed during the handshake");
          auto& frame = read.message;
          auto root = frame->getRoot<wire::Frame>();
          KJ_REQUIRE(root.isProof(), "expected the dialer's proof");
          const Mac expected =
              handshake_mac(node_.config().secret, Role::dialer, dialer_name, node_.config().name, theirs, mine);
          auto mac = root.getProof().getMac();
          if (!proof_matches(expected, mac.begin(), mac.size())) {
            node_.refused.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
            KJ_FAIL_REQUIRE("handshake refused: the dialer could not prove the shared secret", dialer_name);
          }
          peer_ = &node_.peer(dialer_name);
          // Where the dialer listens: handles to its actors that this node passes on name it.
          if (!peer_->address && dialer_address.second != 0) peer_->address = kj::mv(dialer_address);
        });
  });
}

kj::Promise<void> Connection::read_loop() {
  const FrameLimits limits{kMaxSegments, node_.config().max_frame_bytes};
  return reader_.next(limits).then([this](ReadFrame read) -> kj::Promise<void> {
    if (read.message.get() == nullptr) return kj::READY_NOW;  // the peer closed
    last_read_ = node_.timer().now();                         // any frame shows the peer alive
    node_.note_activity();
    handle(*read.message);
    return read_loop();
  });
}

void Connection::handle(capnp::MessageReader& frame) {
  auto root = frame.getRoot<wire::Frame>();
  switch (root.which()) {
    case wire::Frame::ENVELOPES:
      handle_envelopes(root.getEnvelopes());
      return;
    case wire::Frame::LOOKUP: {
      auto lookup = root.getLookup();
      OutControl reply;
      reply.is_reply = true;
      reply.lookup_id = lookup.getLookupId();
      if (auto actor = node_.system().whereis(std::string_view(lookup.getName().cStr(), lookup.getName().size()))) {
        reply.found = true;
        reply.actor_id = node_.export_actor(actor->core());
      }
      peer_->controls.push_back(kj::mv(reply));
      node_.flush(*peer_);
      return;
    }
    case wire::Frame::LOOKUP_REPLY: {
      auto reply = root.getLookupReply();
      node_.lookup_answered(reply.getLookupId(), *peer_, reply.getFound(), reply.getActorId());
      return;
    }
    case wire::Frame::HEARTBEAT:
      return;  // its arrival is what counts (read_loop)
    case wire::Frame::SIGNAL:
      node_.handle_signal(*peer_, root.getSignal());
      return;
    case wire::Frame::GRANT: {
      auto grant = root.getGrant();
      peer_->credit += grant.getEnvelopes();
      peer_->credit_bytes += grant.getBytes();
      node_.flush(*peer_);
      return;
    }
    case wire::Frame::CREDIT_V1:
      KJ_FAIL_REQUIRE("a protocol 1 credit frame");
    case wire::Frame::HELLO:
    case wire::Frame::PROOF:
    case wire::Frame::INCARNATION:
      KJ_FAIL_REQUIRE("handshake frame after authentication");
  }
  KJ_FAIL_REQUIRE("unknown frame kind (a newer protocol?)");
}

void Connection::handle_envelopes(capnp::List<wire::Envelope>::Reader envelopes) {
  std::uint32_t returned_now = 0;  // responses and dead letters: their credit goes back at once
  std::uint64_t returned_now_bytes = 0;
  delivered_.clear();
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
    node_.received.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
    const std::uint64_t bytes = envelope_wire_bytes(in.getMessageType().size(), in.getPayload().size());
    const EnvelopeKind local_kind = envelope_kind(in.getKind());
    RemoteActor* requester =
        local_kind == EnvelopeKind::request && in.getSender() != 0 ? node_.proxy(*peer_, in.getSender()) : nullptr;
    auto answer_error = [&](Errc code, std::string what) {
      if (requester == nullptr) return;
      requester->add_ref();  // the response's target holds no reference; send_response borrows
      troupe::detail::send_response_error(requester, in.getRequestId(), Error{code, std::move(what)});
      requester->release();
    };
    runtime::ActorCore* target = node_.exported(in.getReceiver());
    const auto type_name = in.getMessageType();
    const WireTypeInfo* info = envelope_type(in);
    if (target == nullptr || info == nullptr) {
      node_.dead.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
      answer_error(target == nullptr ? Errc::dead_actor : Errc::unexpected_message,
                   target == nullptr
                       ? "no such actor on node " + node_.config().name
                       : std::string(type_name.cStr()) + " is not declared on node " + node_.config().name);
      ++returned_now;
      returned_now_bytes += bytes;
      continue;
    }
    Envelope* env = nullptr;
    {
      CodecScope scope(node_, *peer_);  // handles in the message resolve through the sending peer
      env = decode_envelope_payload(*info, local_kind, in);
    }
    if (local_kind == EnvelopeKind::request) {
      if (requester != nullptr) requester->add_ref();  // the request's reply_to holds a reference
      env->reply().reply_to = requester;
      env->reply().request_id = in.getRequestId();
      (void)troupe::detail::deliver(target, env);
      delivered_to(target, bytes);
    } else if (local_kind == EnvelopeKind::response) {
      node_.untrack_request(*peer_, in.getReceiver(), in.getRequestId());  // answered: a node-down no longer fails it
      env->reply().request_id = in.getRequestId();
      target->enqueue(env);
      ++returned_now;
      returned_now_bytes += bytes;
    } else {
      (void)troupe::detail::deliver(target, env);
      delivered_to(target, bytes);
    }
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
  if (writing_ || peer_ == nullptr) return;
  kj::Own<capnp::MallocMessageBuilder> frame;
  if (!peer_->controls.empty()) {
    OutControl c = std::move(peer_->controls.front());
    peer_->controls.erase(peer_->controls.begin());
    frame = kj::heap<capnp::MallocMessageBuilder>();
    auto root = frame->initRoot<wire::Frame>();
    if (c.credit != 0 || c.credit_bytes != 0) {
      auto grant = root.initGrant();
      grant.setEnvelopes(c.credit);
      grant.setBytes(c.credit_bytes);
    } else if (c.is_reply) {
      auto r = root.initLookupReply();
      r.setLookupId(c.lookup_id);
      r.setFound(c.found);
      r.setActorId(c.actor_id);
    } else {
      auto l = root.initLookup();
      l.setLookupId(c.lookup_id);
      l.setName(c.name);
    }
  } else if (!peer_->signals.empty()) {
    OutSignal out = std::move(peer_->signals.front());
    peer_->signals.erase(peer_->signals.begin());
    frame = kj::heap<capnp::MallocMessageBuilder>();
    auto signal = frame->initRoot<wire::Frame>().initSignal();
    signal.setKind(out.kind);
    signal.setFrom(out.from);
    signal.setTo(out.to);
    signal.setRef(out.ref);
    auto reason = signal.initReason();
    reason.setKind(static_cast<std::uint8_t>(out.reason.kind));
    reason.setMessage(out.reason.message);
    signal.setLinked(out.linked);
    signal.setUntrappable(out.untrappable);
  } else if (!peer_->envelopes.empty() && peer_->credit != 0) {
    const std::size_t n = envelopes_for_next_frame();
    if (n == 0) return;  // the first waits for byte credit
    frame = kj::heap<capnp::MallocMessageBuilder>();
    auto list = frame->initRoot<wire::Frame>().initEnvelopes(static_cast<unsigned>(n));
    auto& queued = peer_->envelopes;
    for (std::size_t i = 0; i < n; ++i) {
      const OutEnvelope& e = queued[i];
      auto out = list[static_cast<unsigned>(i)];
      out.setSender(e.sender);
      out.setReceiver(e.receiver);
      out.setMessageType(capnp::Text::Reader(e.type_name.data(), e.type_name.size()));
      out.setPayload(kj::arrayPtr(reinterpret_cast<const kj::byte*>(e.payload.data()), e.payload.size()));
      out.setRequestId(e.request_id);
      out.setKind(e.kind);
      peer_->credit -= 1;
      peer_->credit_bytes -= e.wire_bytes();
      // Written: it leaves the outbound queue (the frame's bytes are bounded by the credit).
      if (e.counted) peer_->outbound_limit->consumed(e.charged);
    }
    queued.erase(queued.begin(), queued.begin() + static_cast<std::ptrdiff_t>(n));
  } else {
    return;
  }
  start_write(kj::mv(frame));
}

// How many of the queued envelopes the next frame takes: as many as the peer's credit (envelopes
// and bytes) allows, up to kMaxEnvelopesPerFrame and about kFrameTargetBytes (or half what the
// peer accepts, if less); an envelope larger than that goes alone. One that would not fit in any
// frame the peer accepts (its limit shrank since the send weighed it: a restarted peer) is
// dropped here, before the wire, rather than closing the connection.
std::size_t Connection::envelopes_for_next_frame() {
  auto& queued = peer_->envelopes;
  const std::uint64_t peer_limit =
      peer_->max_frame_bytes.load(std::memory_order_relaxed);  // relaxed: written by this thread
  while (!queued.empty() && queued.front().wire_bytes() > max_envelope_bytes(peer_limit)) {
    node_.drop_unsendable(*peer_, queued.front());
    queued.pop_front();
  }
  const std::uint64_t target = std::min<std::uint64_t>(kFrameTargetBytes, peer_limit / 2);
  const std::size_t most = std::min({queued.size(), kMaxEnvelopesPerFrame, static_cast<std::size_t>(peer_->credit)});
  std::uint64_t credit_bytes = peer_->credit_bytes;
  std::uint64_t frame_bytes = 0;
  std::size_t n = 0;
  for (; n < most; ++n) {
    const std::uint64_t bytes = queued[n].wire_bytes();
    if (bytes > credit_bytes || (n != 0 && frame_bytes + bytes > target)) break;
    credit_bytes -= bytes;
    frame_bytes += bytes;
  }
  return n;
}

void Connection::start_write(kj::Own<capnp::MallocMessageBuilder> frame) {
  writing_ = true;
  // A failed write needs no handling here: the broken stream fails the read loop too, which
  // closes the connection with its reason.
  node_.tasks().add(canceler_.wrap(write_frame(kj::mv(frame)).then([this]() {
    writing_ = false;
    write_pending();
  })));
}

kj::Promise<void> Connection::write_frame(kj::Own<capnp::MallocMessageBuilder> frame) {
  auto& builder = *frame;
  last_write_ = node_.timer().now();
  // kj's write may throw at once (a reset connection fails the first writev synchronously):
  // evalNow turns that into a rejected promise, handled like any other failed write.
  return kj::evalNow([&] { return capnp::writeMessage(*stream_, builder); }).attach(kj::mv(frame));
}

}  // namespace troupe::transport::detail
