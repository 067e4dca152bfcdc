// Building and reading the frames that are not envelopes (docs/wire.md): the handshake's hello,
// proof and incarnation, heartbeats, controls (grants, lookups, lookup replies) and signals.
// Envelope frames: envelope_frame.hpp (writing) and Connection (reading).
#pragma once

#include "handshake.hpp"
#include "heartbeat.hpp"
#include "outbox.hpp"
#include "wire.capnp.h"
#include "wire_signal.hpp"

#include <capnp/message.h>
#include <kj/memory.h>

#include <cstdint>
#include <string>

namespace troupe::transport::detail {

using FrameBuilder = kj::Own<capnp::MallocMessageBuilder>;

// What a node says of itself in its hello.
struct HelloFields {
  const std::string& node_name;
  const Nonce& nonce;
  const std::string& listen_host;  // where peers can dial it (advertised_host.hpp)
  std::uint16_t listen_port;
  std::uint64_t max_frame_bytes;
};
FrameBuilder hello_frame(const HelloFields& hello);
FrameBuilder proof_frame(const Mac& mac);
// After the handshake, each side's run; 0 from the listener: "a duplicate connection, closed".
FrameBuilder incarnation_frame(std::uint64_t incarnation);
FrameBuilder duplicate_name_frame();
FrameBuilder heartbeat_frame(const HeartbeatTimes& times);
FrameBuilder control_frame(const Control& control);
FrameBuilder signal_frame(const WireSignal& signal);

Grant read_grant(wire::Grant::Reader grant);
// A heartbeat without times (from a node before them) reads as all zeros.
HeartbeatTimes read_heartbeat(wire::Frame::Heartbeat::Reader heartbeat);
Lookup read_lookup(wire::Lookup::Reader lookup);
LookupReply read_lookup_reply(wire::LookupReply::Reader reply);
// Throws a kj::Exception for a kind this node does not know (a newer protocol).
WireSignal read_signal(wire::Signal::Reader signal);

}  // namespace troupe::transport::detail
