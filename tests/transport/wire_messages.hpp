// The message types the transport tests send between processes, declared once for both sides.
#pragma once

#include <troupe/handle.hpp>
#include <troupe/transport/capnp_message.hpp>
#include <troupe/transport/wire_type.hpp>

// Two versions of the evolving types: node_peer_v1 is built with the old ones, the rest with the new.
#ifdef TROUPE_TEST_OLD_SCHEMA
#include "evolution_v1.capnp.h"
#else
#include "evolution_v2.capnp.h"
#endif

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

// Makes the receiving actor stall in its handler (a node that stops keeping up).
struct Hold {
  std::uint32_t ms = 0;    // at most this long
  std::string until_file;  // non-empty: stops early once this file exists (the test's release)
};
TROUPE_WIRE_MESSAGE(Hold, ms, until_file);

// Asks the helper node for its NodeStats::handshakes_refused.
struct RefusedCount {};
TROUPE_WIRE_EMPTY_MESSAGE(RefusedCount);

// Asks the helper node for its NodeStats::dead_letters.
struct DeadLetterCount {};
TROUPE_WIRE_EMPTY_MESSAGE(DeadLetterCount);

// Tells node_peer's "victim" to stop: normally if `error` is empty, else by throwing it.
struct Quit {
  std::string error;
};
TROUPE_WIRE_MESSAGE(Quit, error);

// A request node_peer's "hang" never answers (it keeps the promise).
struct Hang {};
TROUPE_WIRE_EMPTY_MESSAGE(Hang);

// Asks b's relay to send Pong{n + 1, "called back"} to `to` (a handle from the sending node).
struct Callback {
  troupe::Handle<void(Pong)> to;
  std::int32_t n = 0;
};
TROUPE_WIRE_MESSAGE(Callback, to, n);

// Asks b's relay whether the handle inside arrived valid; answers bool.
struct HandleProbe {
  troupe::DynamicHandle handle;
};
TROUPE_WIRE_MESSAGE(HandleProbe, handle);

// Asks b's relay to send `callback` on to `via` (a handle to an actor on a third node): the third
// node then answers the handle inside the callback, to an actor of the sending node.
struct Forward {
  troupe::DynamicHandle via;
  Callback callback;
};
TROUPE_WIRE_MESSAGE(Forward, via, callback);

// Asks b's relay for the handle of `actor` on node `node` (listening on 127.0.0.1:port), which b
// looks up through that node's spawner.
struct Introduce {
  std::string node;
  std::uint16_t port = 0;
  std::string actor;
};
TROUPE_WIRE_MESSAGE(Introduce, node, port, actor);

// The arguments of node_peer's spawnable "word-counter": words equal to `ignore` are not counted.
struct WordCounterArgs {
  std::string ignore;
};
TROUPE_WIRE_MESSAGE(WordCounterArgs, ignore);

// Asks a word counter how many words `text` has; answers std::uint64_t.
struct CountWords {
  std::string text;
};
TROUPE_WIRE_MESSAGE(CountWords, text);

// A message type that grew: `note` was appended in the newer version. node_peer's "evolution"
// echoes it as its own version sees it.
#ifdef TROUPE_TEST_OLD_SCHEMA
struct Versioned {
  std::int32_t n = 0;
};
TROUPE_WIRE_MESSAGE(Versioned, n);
#else
struct Versioned {
  std::int32_t n = 0;
  std::string note = "none";  // new: an older sender's message reads as "none"
};
TROUPE_WIRE_MESSAGE(Versioned, n, note);
#endif

#ifndef TROUPE_TEST_OLD_SCHEMA
// A type only the newer version declares: node_peer_v1 does not know its name.
struct NewerOnly {
  std::int32_t n = 0;
};
TROUPE_WIRE_MESSAGE(NewerOnly, n);
#endif

// A Cap'n Proto struct as a message (evolution_v1.capnp / evolution_v2.capnp).
TROUPE_WIRE_CAPNP_MESSAGE(ReadingMessage, evo::Reading);

// An application error category both sides register (app_error_test.cpp).
enum class BankError { insufficient_funds = 1, no_account };
TROUPE_ERROR_CATEGORY(BankError, "bank", insufficient_funds, no_account);

// Asks node_peer's "bank" (holding 10) to pay out `amount`: answers what is left (std::int32_t),
// or BankError::insufficient_funds.
struct Withdraw {
  std::int32_t amount = 0;
};
TROUPE_WIRE_MESSAGE(Withdraw, amount);

// Asks node_peer's "bank" to open its vault: answers an error of a category only node_peer
// registers ("vault").
struct OpenVault {};
TROUPE_WIRE_MESSAGE(OpenVault);

// A type only the test process knows: sending it across must fail cleanly.
struct NotOnTheWire {
  int x = 0;
};

}  // namespace transport_test
