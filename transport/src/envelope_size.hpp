// What an envelope weighs on the wire, counted the same way at both ends: the sender against the
// peer's receive window (bytes) and frame limit, the receiver when it grants the bytes back. The
// two must agree to the byte, or the window drifts; so both call envelope_wire_bytes() on the
// sizes of what actually crossed (the type name, if this envelope carries it, and the encoded
// payload).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace troupe::transport::detail {

// An Envelope in a frame's list (wire.capnp): its data and pointer sections (six words), its type
// name as Cap'n Proto text (a NUL, padded to a word) if it carries it (the first of its type on a
// connection: type_names.hpp), and its payload (padded to a word).
inline constexpr std::uint64_t envelope_wire_bytes(std::optional<std::size_t> type_name_bytes,
                                                   std::size_t payload_bytes) noexcept {
  auto words = [](std::uint64_t bytes) { return (bytes + 7) / 8 * 8; };
  return 48 + (type_name_bytes ? words(*type_name_bytes + 1) : 0) + words(payload_bytes);
}

// What a frame holds beside its envelopes: the segment table (a reader allows 64 segments), the
// root pointer, the Frame struct and the list's tag, with room to spare for far pointers.
inline constexpr std::uint64_t kFrameOverheadBytes = 1024;

// The largest envelope a peer that accepts frames of `max_frame_bytes` can take: one alone in a frame.
inline constexpr std::uint64_t max_envelope_bytes(std::uint64_t max_frame_bytes) noexcept {
  return max_frame_bytes > kFrameOverheadBytes ? max_frame_bytes - kFrameOverheadBytes : 0;
}

// The most a node may accept in one frame (NodeConfig::max_frame_bytes) or be told its peer
// accepts: a Cap'n Proto Data field holds under 512 MiB, and a frame this large is already a
// message better sent in parts.
inline constexpr std::uint64_t kLargestFrameBytes = 256u << 20;

// Envelopes are batched into frames of about this many bytes at most (fewer if the peer accepts
// less): large enough that a burst of small messages costs few writes, small enough that a frame
// is a modest buffer at both ends. An envelope larger than this travels in a frame of its own.
inline constexpr std::uint64_t kFrameTargetBytes = 1u << 20;

}  // namespace troupe::transport::detail
