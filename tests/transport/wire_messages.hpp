// The message types the transport tests send between processes, declared once for both sides.
#pragma once

#include <troupe/transport/wire_type.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace transport_test {

struct Ping {
  std::int32_t n = 0;
  std::string text;
  std::vector<std::int64_t> values;
};
TROUPE_WIRE_MESSAGE(Ping, n, text, values);

struct Pong {
  std::int32_t n = 0;
  std::string text;
  std::int64_t sum = 0;
};
TROUPE_WIRE_MESSAGE(Pong, n, text, sum);

// One message of sender `sender`'s numbered stream.
struct Seq {
  std::uint32_t sender = 0;
  std::uint64_t index = 0;
};
TROUPE_WIRE_MESSAGE(Seq, sender, index);

// Asks the sink what it got from `sender` (sent after the sender's Seqs, so it comes after them).
struct Tally {
  std::uint32_t sender = 0;
};
TROUPE_WIRE_MESSAGE(Tally, sender);

struct TallyReply {
  std::uint64_t received = 0;
  std::uint64_t out_of_order = 0;
};
TROUPE_WIRE_MESSAGE(TallyReply, received, out_of_order);

// A bulky message of sender `sender`'s numbered stream, for floods.
struct Blob {
  std::uint32_t sender = 0;
  std::uint64_t index = 0;
  std::string bytes;
};
TROUPE_WIRE_MESSAGE(Blob, sender, index, bytes);

// Makes the receiving actor stall for `ms` milliseconds in its handler (a node that stops keeping up).
struct Hold {
  std::uint32_t ms = 0;
};
TROUPE_WIRE_MESSAGE(Hold, ms);

// Asks the helper node for its NodeStats::handshakes_refused.
struct RefusedCount {};
TROUPE_WIRE_EMPTY_MESSAGE(RefusedCount);

// A type only the test process knows: sending it across must fail cleanly.
struct NotOnTheWire {
  int x = 0;
};

}  // namespace transport_test
