// Decoding one received envelope: its kind, its declared type, its payload. Untrusted input:
// shared by Connection and the frame decoder's fuzz target (fuzz/), so the fuzzer runs this code.
#pragma once

#include "wire.capnp.h"

#include <troupe/message.hpp>
#include <troupe/transport/wire_type.hpp>

#include <kj/debug.h>

#include <string_view>

namespace troupe::transport::detail {

// The local kind of a wire kind; throws a kj::Exception for a kind this node does not know.
inline EnvelopeKind envelope_kind(wire::Kind kind) {
  KJ_REQUIRE(kind == wire::Kind::MESSAGE || kind == wire::Kind::REQUEST || kind == wire::Kind::RESPONSE,
             "unknown envelope kind");
  return kind == wire::Kind::MESSAGE   ? EnvelopeKind::message
         : kind == wire::Kind::REQUEST ? EnvelopeKind::request
                                       : EnvelopeKind::response;
}

// The declaration of the envelope's type on this node, or null for an undeclared one.
inline const WireTypeInfo* envelope_type(wire::Envelope::Reader in) {
  const auto name = in.getMessageType();
  return find_wire_type(std::string_view(name.cStr(), name.size()));
}

// A new envelope (the caller owns it) with the decoded payload; a payload that does not decode as
// `info` throws a kj::Exception.
inline Envelope* decode_envelope_payload(const WireTypeInfo& info, EnvelopeKind kind, wire::Envelope::Reader in) {
  auto payload = in.getPayload();
  try {
    return info.decode(kind, payload.begin(), payload.size());
  } catch (const WireError& e) {
    KJ_FAIL_REQUIRE("undecodable payload", in.getMessageType().cStr(), e.what());
  }
}

}  // namespace troupe::transport::detail
