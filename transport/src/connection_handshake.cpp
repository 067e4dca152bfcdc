#include "connection_handshake.hpp"

#include "advertised_host.hpp"
#include "connection.hpp"
#include "frame_codec.hpp"
#include "handshake_deadline.hpp"
#include "node_core.hpp"
#include "plain_failure.hpp"

#include <kj/debug.h>

#include <algorithm>
#include <string_view>

namespace troupe::transport::detail {
namespace {

// Before authentication a peer may send only a small hello or proof.
constexpr FrameLimits kHandshakeLimits{1, 1024};

// Longest node name a dialer may claim: one a handle's reference can carry.
constexpr std::size_t kMaxNodeName = kMaxRefNodeNameBytes;

// A name from an unauthenticated peer, safe to put in a log line: printable ASCII, cut short.
std::string printable(std::string_view text) {
  constexpr std::size_t kMax = 64;
  std::string out;
  for (char c : text.substr(0, kMax)) out += c >= 0x20 && c < 0x7f ? c : '?';
  if (text.size() > kMax) out += "...";
  return out;
}

}  // namespace

ConnectionHandshake::ConnectionHandshake(NodeCore& node, Connection& connection, Peer* dialed_peer,
                                         std::string local_host, PeerAddress from)
    : node_(node),
      connection_(connection),
      peer_(dialed_peer),
      role_(dialed_peer != nullptr ? Role::dialer : Role::listener),
      local_host_(std::move(local_host)),
      from_(std::move(from)) {}

kj::Promise<void> ConnectionHandshake::run() {
  auto handshake = role_ == Role::dialer ? dialer_handshake() : listener_handshake();
  // A peer that stalls anywhere before it is authenticated is closed at the deadline.
  return handshake_deadline(node_.loop().timer(), node_.config().handshake_timeout,
                            handshake.then([this]() { return exchange_incarnations(); }))
      .catch_([this](kj::Exception&& e) { return not_authenticated(kj::mv(e)); });
}

// Every way a handshake fails comes here, once (a close by this node, as it stops, cancels it
// first: Connection's canceler). Reasons the handshake itself found are in refusal_; the rest are
// said here.
kj::Promise<void> ConnectionHandshake::not_authenticated(kj::Exception&& e) {
  if (duplicate_) {
    // Not a refusal: the pair keeps the other connection.
    if (node_.log().enabled(LogLevel::info)) {
      const Peer* p = peer();
      node_.log().log({.level = LogLevel::info,
                       .name = "connection_duplicate",
                       .message = connection_.describe() +
                                  " closed: a second connection of the pair (both dialled at once); " +
                                  (role_ == Role::dialer ? "the peer keeps its own connection to this node"
                                                         : "this node keeps its own connection to the peer"),
                       .peer = p != nullptr ? std::string_view(p->name) : std::string_view()});
    }
  } else {
    if (refusal_.empty()) {
      if (is_handshake_timeout(e)) {
        refusal_cause_ = RefusalCause::timeout;
        refusal_ = "the handshake timed out";
      } else if (e.getType() == kj::Exception::Type::DISCONNECTED) {
        refusal_cause_ = RefusalCause::closed;
        refusal_ = closed_reason();  // a reset, or a write to a closed stream
      } else {
        refusal_cause_ = RefusalCause::malformed;
        refusal_ = "it sent a malformed frame before authenticating";  // Cap'n Proto could not read it
      }
    }
    node_.log().refuse(from_, refusal_cause_, refusal_);
  }
  return kj::mv(e);
}

void ConnectionHandshake::refuse(RefusalCause cause, std::string why) {
  refusal_cause_ = cause;
  refusal_ = std::move(why);
  fail_plainly(kj::str(refusal_.c_str()));
}

std::string ConnectionHandshake::closed_reason() const {
  // The listener closes when the dialer's proof is wrong, and tells it nothing more.
  if (role_ == Role::dialer && proof_sent_) return "it closed the connection after this node's proof (another secret?)";
  return "it closed the connection during the handshake";
}

kj::Promise<kj::Own<capnp::MessageReader>> ConnectionHandshake::next_frame(FrameLimits limits) {
  return connection_.read_frame(limits).then(
      [this](ReadFrame read) -> kj::Own<capnp::MessageReader> {
        if (read.tls_client) refuse(RefusalCause::tls, "a TLS client connected to this plaintext node");
        if (read.message.get() == nullptr) refuse(RefusalCause::closed, closed_reason());
        return kj::mv(read.message);
      },
      [this](kj::Exception&& e) -> kj::Own<capnp::MessageReader> {
        if (e.getType() == kj::Exception::Type::DISCONNECTED) refuse(RefusalCause::closed, closed_reason());
        // FrameReader says what was wrong with the frame in plain words.
        refuse(RefusalCause::malformed,
               std::string("it sent a malformed frame before authenticating (") + e.getDescription().cStr() + ")");
      });
}

// After the handshake. The dialer sends its incarnation first; the listener reads it, then decides
// (ConnectionSet::judge_incoming) and answers with its own incarnation; with 0: "a duplicate,
// closed; my own connection to you is the one" (two nodes that dialled each other at once keep
// only the connection the lower-named one dialled); or with duplicateName: "another live node of
// your name is connected to me" (refused). A dialer that finds it reached a second node of a name
// it is connected to answers that listener's incarnation with duplicateName in turn.
kj::Promise<void> ConnectionHandshake::exchange_incarnations() {
  auto read_incarnation = [this]() {
    return next_frame(kHandshakeLimits).then([this](kj::Own<capnp::MessageReader> frame) {
      auto root = frame->getRoot<wire::Frame>();
      if (root.isDuplicateName() && role_ == Role::dialer) {
        name_refused_ = true;
        refuse(RefusalCause::name, "duplicate node name '" + node_.config().name + "': node '" + peer_->name +
                                       "' is connected to another live node of this name");
      }
      if (!root.isIncarnation())
        refuse(RefusalCause::malformed, "it sent an unexpected frame before authenticating (not its incarnation)");
      return root.getIncarnation();
    });
  };
  if (role_ == Role::dialer) {
    return connection_.write_frame(incarnation_frame(node_.incarnation()))
        .then([read_incarnation]() { return read_incarnation(); })
        .then([this](std::uint64_t theirs) -> kj::Promise<void> {
          if (theirs == 0) {
            duplicate_ = true;
            return KJ_EXCEPTION(FAILED, "a duplicate: the peer keeps its own connection to this node");
          }
          if (node_.connections().name_taken(*peer_, connection_, theirs)) {
            // The listener already took this connection: it learns why it closes (Connection::handle).
            return connection_.write_frame(duplicate_name_frame()).then([this]() {
              refuse(RefusalCause::name, "duplicate node name '" + peer_->name +
                                             "': this node is connected to another live node of that name");
            });
          }
          peer_incarnation_ = theirs;
          return kj::READY_NOW;
        });
  }
  return read_incarnation().then([this](std::uint64_t theirs) {
    if (theirs == 0)
      refuse(RefusalCause::malformed, "it sent an unexpected frame before authenticating (incarnation 0)");
    switch (node_.connections().judge_incoming(*peer_, theirs)) {
      case ConnectionSet::Incoming::duplicate_name:
        return connection_.write_frame(duplicate_name_frame()).then([this]() {
          refuse(RefusalCause::name,
                 "duplicate node name '" + peer_->name + "': a live node of that name is connected to this one");
        });
      case ConnectionSet::Incoming::duplicate_connection:
        return connection_.write_frame(incarnation_frame(0)).then([this]() {
          duplicate_ = true;
          kj::throwFatalException(KJ_EXCEPTION(FAILED, "a duplicate: this node keeps its own connection to the peer"));
        });
      case ConnectionSet::Incoming::keep:
        break;
    }
    return connection_.write_frame(incarnation_frame(node_.incarnation())).then([this, theirs]() {
      peer_incarnation_ = theirs;
    });
  });
}

// The dialer proves it knows the secret first; the listener's proof comes only if the dialer's
// matched (handshake.hpp).
kj::Promise<void> ConnectionHandshake::dialer_handshake() {
  const Nonce mine = make_nonce();
  const std::string listen_host = advertised_host(node_.config(), local_host_);
  return connection_
      .write_frame(hello_frame(
          HelloFields{node_.config().name, mine, listen_host, node_.port(), node_.config().max_frame_bytes}))
      .then([this]() { return next_frame(kHandshakeLimits); })
      .then([this, mine](kj::Own<capnp::MessageReader> frame) {
        auto root = frame->getRoot<wire::Frame>();
        if (!root.isHello())
          refuse(RefusalCause::malformed, "it sent an unexpected frame before authenticating (not its hello)");
        auto hello = root.getHello();
        check_version(hello);
        const std::string_view listener_name(hello.getNodeName().cStr(), hello.getNodeName().size());
        if (listener_name != peer_->name) {
          if (!peer_->seed) refuse(RefusalCause::name, "it answered as node '" + printable(listener_name) + "'");
          adopt_seed_name(std::string(listener_name));
        }
        const Nonce theirs = nonce_of(hello);
        const Mac mac =
            handshake_mac(node_.config().secret, Role::dialer, node_.config().name, peer_->name, mine, theirs);
        proof_sent_ = true;
        return connection_.write_frame(proof_frame(mac)).then([this, mine, theirs]() {
          return next_frame(kHandshakeLimits).then([this, mine, theirs](kj::Own<capnp::MessageReader> frame) {
            auto root = frame->getRoot<wire::Frame>();
            if (!root.isProof())
              refuse(RefusalCause::malformed, "it sent an unexpected frame before authenticating (not its proof)");
            const Mac expected =
                handshake_mac(node_.config().secret, Role::listener, node_.config().name, peer_->name, mine, theirs);
            auto proof = root.getProof().getMac();
            if (!proof_matches(expected, proof.begin(), proof.size()))
              refuse(RefusalCause::bad_hmac, "it could not prove the cluster secret");
          });
        });
      });
}

void ConnectionHandshake::adopt_seed_name(std::string name) {
  if (name.empty() || name.size() > kMaxNodeName) refuse(RefusalCause::name, "its hello has no valid node name");
  if (name == node_.config().name) refuse(RefusalCause::name, "it is this node itself");
  Peer& named = node_.peers().peer(name);
  if (named.connection != nullptr || node_.dialler().dialing(named)) {
    // Connected already (under another address), or about to be: no second connection, which
    // would replace the first. The seed's answer is that node all the same.
    node_.seeds().found(*peer_, named);
    refuse(RefusalCause::name, "node '" + name + "' answers there, and this node is already connected to it");
  }
  seed_ = peer_;
  node_.dialler().dial_ended(*seed_);
  peer_ = &named;
  // From here on a dial of that peer, as far as everyone can tell: the listener's rule for two
  // connections that cross applies, and a dial of it started elsewhere waits for this one.
  named.dial.dialing = true;
  if (!named.address) named.address = seed_->address;
}

void ConnectionHandshake::check_version(wire::Hello::Reader hello) {
  if (hello.getProtocolVersion() != wire::PROTOCOL_VERSION) {
    refuse(RefusalCause::version, "it speaks protocol version " + std::to_string(hello.getProtocolVersion()) +
                                      ", this node version " + std::to_string(wire::PROTOCOL_VERSION));
  }
  peer_max_frame_ = hello.getMaxFrameBytes();
}

Nonce ConnectionHandshake::nonce_of(wire::Hello::Reader hello) {
  if (hello.getNonce().size() != Nonce{}.size())
    refuse(RefusalCause::malformed, "its hello has a nonce of the wrong size");
  Nonce nonce{};
  std::copy(hello.getNonce().begin(), hello.getNonce().end(), nonce.begin());
  return nonce;
}

// The listener says nothing that depends on the secret until the dialer's proof matched.
kj::Promise<void> ConnectionHandshake::listener_handshake() {
  FrameLimits first_limits = kHandshakeLimits;
  first_limits.detect_tls = true;  // a TLS node dialling this plaintext one
  return next_frame(first_limits).then([this](kj::Own<capnp::MessageReader> frame) {
    auto root = frame->getRoot<wire::Frame>();
    if (!root.isHello())
      refuse(RefusalCause::malformed, "it sent an unexpected frame before authenticating (not a hello)");
    auto hello = root.getHello();
    check_version(hello);
    std::string dialer_name = hello.getNodeName();
    if (dialer_name.empty() || dialer_name.size() > kMaxNodeName)
      refuse(RefusalCause::name, "its hello has no valid node name");
    if (dialer_name == node_.config().name)
      refuse(RefusalCause::name, "duplicate node name: it claims this node's own name");
    const Nonce theirs = nonce_of(hello);
    const Nonce mine = make_nonce();
    const std::string listen_host = advertised_host(node_.config(), local_host_);
    auto reply =
        hello_frame(HelloFields{node_.config().name, mine, listen_host, node_.port(), node_.config().max_frame_bytes});
    std::pair<std::string, std::uint16_t> dialer_address{hello.getListenHost().cStr(), hello.getListenPort()};
    return connection_.write_frame(kj::mv(reply))
        .then([this]() { return next_frame(kHandshakeLimits); })
        .then([this, theirs, mine, dialer_name = kj::mv(dialer_name),
               dialer_address = kj::mv(dialer_address)](kj::Own<capnp::MessageReader> frame) mutable {
          auto root = frame->getRoot<wire::Frame>();
          if (!root.isProof())
            refuse(RefusalCause::malformed, "it sent an unexpected frame before authenticating (not its proof)");
          const std::string& secret = node_.config().secret;
          const Mac expected = handshake_mac(secret, Role::dialer, dialer_name, node_.config().name, theirs, mine);
          auto mac = root.getProof().getMac();
          if (!proof_matches(expected, mac.begin(), mac.size()))
            refuse(RefusalCause::bad_hmac, "it could not prove the cluster secret");
          // The dialer proved itself: now this node proves itself to it.
          const Mac own = handshake_mac(secret, Role::listener, dialer_name, node_.config().name, theirs, mine);
          peer_ = &node_.peers().peer(dialer_name);
          // Where the dialer listens: handles to its actors that this node passes on name it.
          if (!peer_->address && dialer_address.second != 0) peer_->address = kj::mv(dialer_address);
          return connection_.write_frame(proof_frame(own));
        });
  });
}

}  // namespace troupe::transport::detail
