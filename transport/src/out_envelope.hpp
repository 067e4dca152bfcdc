// A message on its way out to a peer, serialized on the transport thread, queued until the
// connection's writer puts it in a frame (envelope_frame.hpp).
#pragma once

#include "envelope_size.hpp"
#include "wire.capnp.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace troupe::transport::detail {

struct OutEnvelope {
  std::uint64_t sender = 0;
  std::uint64_t receiver = 0;
  std::uint64_t request_id = 0;
  std::string_view type_name;  // static storage (the declaration's)
  std::string payload;
  wire::Kind kind = wire::Kind::MESSAGE;
  bool urgent = false;  // DynamicHandle::send_urgent: the receiver handles it first
  // Counted by the peer's outbound limit (messages and requests), or by the outbox's bound on
  // responses (Outbox::room_for_response), until written or dropped (Outbox::release).
  bool counted = false;
  std::uint64_t charged = 0;  // the bytes it counts there (RemoteActor::weight), released with it
  // On the wire (envelope_size.hpp): what it takes of the peer's byte credit and of a frame,
  // carrying its type's name (the first of its type on a connection) or only its number.
  std::uint64_t wire_bytes(bool named) const noexcept {
    return envelope_wire_bytes(named ? std::optional(type_name.size()) : std::nullopt, payload.size());
  }
};

}  // namespace troupe::transport::detail
