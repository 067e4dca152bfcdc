// Decoding one received envelope: its kind and its payload (its type: type_names.hpp). Untrusted input:
// shared by Connection and the frame decoder's fuzz target (fuzz/), so the fuzzer runs this code.
#pragma once

#include "wire.capnp.h"

#include <troupe/message.hpp>
#include <troupe/transport/wire_type.hpp>

#include <kj/debug.h>

#include <string>

namespace troupe::transport::detail {

// The local kind of a wire kind; throws a kj::Exception for a kind this node does not know.
inline EnvelopeKind envelope_kind(wire::Kind kind) {
  KJ_REQUIRE(kind == wire::Kind::MESSAGE || kind == wire::Kind::REQUEST || kind == wire::Kind::RESPONSE,
             "unknown envelope kind");
  return kind == wire::Kind::MESSAGE   ? EnvelopeKind::message
         : kind == wire::Kind::REQUEST ? EnvelopeKind::request
                                       : EnvelopeKind::response;
}

// A new envelope (the caller owns it) with the decoded payload; a payload that does not decode as
// `info` throws a kj::Exception. `handles` resolves the handles in it.
inline Envelope* decode_envelope_payload(const WireTypeInfo& info, EnvelopeKind kind, wire::Envelope::Reader in,
                                         HandleCodec* handles) {
  auto payload = in.getPayload();
  try {
    return info.decode(kind, payload.begin(), payload.size(), handles);
  } catch (const WireError& e) {
    KJ_FAIL_REQUIRE("undecodable payload", std::string(info.name), e.what());
  }
}

}  // namespace troupe::transport::detail
