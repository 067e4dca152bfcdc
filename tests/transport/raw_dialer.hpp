// Plays the dialing side of a node's handshake by hand (handshake.hpp), as node "raw", frame by
// frame: to see what a listener reveals before the dialer has proven itself, or, once
// authenticated (authenticate()), to send the node what no node would.
#pragma once

#include "handshake.hpp"
#include "raw_client.hpp"
#include "wire.capnp.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

namespace transport_test {

inline void send_frame(RawClient& client, capnp::MessageBuilder& frame) {
  auto words = capnp::messageToFlatArray(frame);
  auto bytes = words.asBytes();
  REQUIRE(client.send(bytes.begin(), bytes.size()));
}

struct RawDialer {
  explicit RawDialer(std::uint16_t port) : client(port) { client.set_receive_timeout(std::chrono::seconds(10)); }

  void send_hello(std::uint16_t version = troupe::transport::wire::PROTOCOL_VERSION) {
    capnp::MallocMessageBuilder frame;
    auto hello = frame.initRoot<troupe::transport::wire::Frame>().initHello();
    hello.setProtocolVersion(version);
    hello.setNodeName(name);
    hello.setNonce(kj::arrayPtr(nonce.data(), nonce.size()));
    send_frame(client, frame);
  }
  struct ListenerHello {
    std::string name;
    troupe::transport::detail::Nonce nonce{};
    std::size_t proof_bytes = 0;
  };
  ListenerHello read_hello() {
    capnp::StreamFdMessageReader frame(client.fd());
    auto root = frame.getRoot<troupe::transport::wire::Frame>();
    REQUIRE(root.isHello());
    auto hello = root.getHello();
    ListenerHello out{hello.getNodeName(), {}, hello.getProof().size()};
    REQUIRE(hello.getNonce().size() == out.nonce.size());
    std::copy(hello.getNonce().begin(), hello.getNonce().end(), out.nonce.begin());
    return out;
  }
  void send_proof(const troupe::transport::detail::Mac& mac) {
    capnp::MallocMessageBuilder frame;
    frame.initRoot<troupe::transport::wire::Frame>().initProof().setMac(kj::arrayPtr(mac.data(), mac.size()));
    send_frame(client, frame);
  }
  // The listener's next frame, which must be its proof.
  troupe::transport::detail::Mac read_proof() {
    capnp::StreamFdMessageReader frame(client.fd());
    auto root = frame.getRoot<troupe::transport::wire::Frame>();
    REQUIRE(root.isProof());
    troupe::transport::detail::Mac mac{};
    REQUIRE(root.getProof().getMac().size() == mac.size());
    std::copy(root.getProof().getMac().begin(), root.getProof().getMac().end(), mac.begin());
    return mac;
  }

  // The whole handshake with `secret`, as a node would dial: hellos, proofs (the listener's
  // checked), then the incarnations. Afterwards the listener takes "raw" for an authenticated peer.
  void authenticate(const std::string& secret) {
    namespace detail = troupe::transport::detail;
    send_hello();
    const ListenerHello hello = read_hello();
    send_proof(detail::handshake_mac(secret, detail::Role::dialer, name, hello.name, nonce, hello.nonce));
    const detail::Mac proof = read_proof();
    REQUIRE(detail::proof_matches(
        detail::handshake_mac(secret, detail::Role::listener, name, hello.name, nonce, hello.nonce), proof.data(),
        proof.size()));
    capnp::MallocMessageBuilder mine;
    mine.initRoot<troupe::transport::wire::Frame>().setIncarnation(incarnation);
    send_frame(client, mine);
    capnp::StreamFdMessageReader theirs(client.fd());
    auto root = theirs.getRoot<troupe::transport::wire::Frame>();
    REQUIRE(root.isIncarnation());
    REQUIRE(root.getIncarnation() != 0);  // 0 would say "a duplicate connection", refused
  }

  RawClient client;
  std::string name = "raw";
  troupe::transport::detail::Nonce nonce = troupe::transport::detail::make_nonce();
  std::uint64_t incarnation = 0x5eed'0000'0000'0001;  // which run of "raw": any but 0
};

}  // namespace transport_test
