#include "envelope_frame.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

namespace troupe::transport::detail {

std::size_t plan_envelope_frame(const std::deque<OutEnvelope>& queued, const OutgoingTypeNames& names, std::size_t most,
                                std::uint64_t credit_bytes, std::uint64_t target_bytes) {
  most = std::min(most, queued.size());
  std::vector<std::string_view> naming;  // types this frame names (few: a frame's distinct new types)
  std::uint64_t frame_bytes = 0;
  std::size_t n = 0;
  for (; n < most; ++n) {
    const OutEnvelope& e = queued[n];
    const bool named =
        !names.named(e.type_name) && std::find(naming.begin(), naming.end(), e.type_name) == naming.end();
    const std::uint64_t bytes = e.wire_bytes(named);
    if (bytes > credit_bytes || (n != 0 && frame_bytes + bytes > target_bytes)) break;
    if (named) naming.push_back(e.type_name);
    credit_bytes -= bytes;
    frame_bytes += bytes;
  }
  return n;
}

std::uint64_t write_envelope_frame(wire::Frame::Builder frame, const std::deque<OutEnvelope>& queued, std::size_t n,
                                   OutgoingTypeNames& names) {
  auto list = frame.initEnvelopes(static_cast<unsigned>(n));
  std::uint64_t bytes = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const OutEnvelope& e = queued[i];
    auto out = list[static_cast<unsigned>(i)];
    const OutgoingTypeNames::Use type = names.use(e.type_name);
    out.setTypeId(type.id);
    if (type.first) out.setMessageType(capnp::Text::Reader(e.type_name.data(), e.type_name.size()));
    out.setSender(e.sender);
    out.setReceiver(e.receiver);
    out.setPayload(kj::arrayPtr(reinterpret_cast<const kj::byte*>(e.payload.data()), e.payload.size()));
    out.setRequestId(e.request_id);
    out.setKind(e.kind);
    if (e.urgent) out.setUrgent(true);
    bytes += e.wire_bytes(type.first);
  }
  return bytes;
}

}  // namespace troupe::transport::detail
