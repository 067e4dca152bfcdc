// The writer's side of an envelopes frame (docs/wire.md, "Envelopes"): which of the queued
// envelopes the next frame takes, and writing them, their types numbered per connection
// (type_names.hpp). Connection::handle_envelopes is the reader's side.
#pragma once

#include "out_envelope.hpp"
#include "type_names.hpp"
#include "wire.capnp.h"

#include <cstddef>
#include <cstdint>
#include <deque>

namespace troupe::transport::detail {

// How many of `queued`, from the front, the next frame takes: at most `most`, within
// `credit_bytes` (each as it will weigh, named or numbered), and about `target_bytes` (the first
// goes even if larger). 0 when the first does not fit the credit.
std::size_t plan_envelope_frame(const std::deque<OutEnvelope>& queued, const OutgoingTypeNames& names, std::size_t most,
                                std::uint64_t credit_bytes, std::uint64_t target_bytes);

// Writes the first `n` of `queued` as `frame`'s envelopes, numbering (and, the first time, naming)
// their types. Returns the bytes they take of the peer's credit: what plan_envelope_frame counted.
std::uint64_t write_envelope_frame(wire::Frame::Builder frame, const std::deque<OutEnvelope>& queued, std::size_t n,
                                   OutgoingTypeNames& names);

}  // namespace troupe::transport::detail
