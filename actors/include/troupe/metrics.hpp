// A snapshot of what a running system is doing (System::metrics()): its workers, its actor types,
// its dead letters and timers, and, for a node, its peers. The counters behind it are kept per
// worker thread and summed only when a snapshot is taken, so the hot path writes no shared line
// (README.md, "Metrics"). Every count runs from the system's start; rates are the difference of
// two snapshots over the time between them.
//
// The Prometheus exposition and the dashboard (<troupe/observe.hpp>) render this snapshot; tests
// and users' own exporters read it directly.
#pragma once

#include <troupe/exit_reason.hpp>
#include <troupe/runtime/scheduler.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace troupe {

// One worker thread of the pool, counted since the pool started (scheduler.hpp).
using WorkerMetrics = runtime::WorkerMetrics;

// The fixed buckets of the handling-time histogram, in seconds: powers of 4 from 1 µs to about
// 4.2 s (upper bounds, inclusive, as Prometheus's `le`), then +Inf.
inline constexpr std::array<double, 12> handling_time_buckets = {
    1e-6, 4e-6, 16e-6, 64e-6, 256e-6, 1.024e-3, 4.096e-3, 16.384e-3, 65.536e-3, 262.144e-3, 1.048576, 4.194304};

struct Histogram {
  // counts[i]: observations in (bounds[i-1], bounds[i]]; the last entry, one past the bounds,
  // counts those above every bound (+Inf). Not cumulative.
  std::array<std::uint64_t, handling_time_buckets.size() + 1> counts{};
  std::uint64_t count = 0;  // the sum of counts
  double sum = 0;           // of the observations, in seconds
};

// Exits by ExitReason::Kind, indexed by the kind's value.
inline constexpr std::size_t exit_reason_kinds = 6;
using ExitCounts = std::array<std::uint64_t, exit_reason_kinds>;

// Every actor of one type: the behaviour's or class's readable name (Context::name()).
struct ActorTypeMetrics {
  std::string type;
  std::uint64_t live = 0;      // spawned and not yet stopped
  std::uint64_t spawned = 0;   // since the start
  std::uint64_t messages = 0;  // messages handled (user messages, responses and signals)
  // How long a handler took, sampled: every message of about one turn in 1024 per worker is timed
  // (timing every message would cost more than handling a short one). Its count is the number of
  // messages timed, not of messages handled.
  Histogram handling_time;
  std::uint64_t restarts = 0;  // restarted by a supervisor
  ExitCounts exits{};          // stopped, by reason kind
};

// An actor with messages waiting, among the deepest seen lately (MetricsSnapshot::mailboxes).
struct MailboxDepth {
  std::string type;         // the actor's type
  std::uint64_t actor = 0;  // an id of the actor, unique among the live ones of this process
  // Messages waiting. Exact for a bounded mailbox (SpawnOptions::mailbox_capacity); an unbounded
  // one is counted by its own actor, walking at most `mailbox_count_limit` messages: `at_least`
  // says the walk stopped there.
  std::uint64_t depth = 0;
  bool at_least = false;
  std::chrono::nanoseconds age{0};  // how long ago the depth was seen
};
inline constexpr std::uint64_t mailbox_count_limit = 4096;

// Dead letters by DeadLetter::Reason, indexed by the reason's value.
inline constexpr std::size_t dead_letter_reasons = 5;
std::string_view dead_letter_reason_name(std::size_t reason) noexcept;  // "receiver_stopped", ...

// One peer of a node (transport): the connection to it, and what crossed it.
struct PeerMetrics {
  std::string node;     // the peer's node name
  std::string address;  // host:port it was reached at, or came from
  // "connecting", "up", "down" (lost, not reconnecting yet) or "declared_down" (a cluster member
  // its peers agreed was gone).
  std::string state;
  std::uint64_t envelopes_out = 0;
  std::uint64_t envelopes_in = 0;
  std::uint64_t bytes_out = 0;  // encoded frames written to the socket
  std::uint64_t bytes_in = 0;
  // Bytes the peer lets this node send before it acknowledges; 0 while the envelopes it granted
  // are spent (it grants both, and either stops the sending).
  std::int64_t credit = 0;
  std::uint64_t outbound_envelopes = 0;  // waiting to be written
  std::uint64_t outbound_bytes = 0;      // their encoded size
  double rtt_seconds = 0;                // round trip of the last heartbeat; 0: none yet
  std::uint64_t downs = 0;               // times the peer was declared down
};

struct NodeMetrics {
  std::string name;  // this node's name
  std::vector<PeerMetrics> peers;
  // Handshakes this node refused, by cause ("bad_hmac", "version", "name_taken", ...).
  std::vector<std::pair<std::string, std::uint64_t>> refusals;
};

struct MetricsSnapshot {
  std::chrono::system_clock::time_point taken{};
  std::chrono::nanoseconds uptime{0};  // since the system started
  std::vector<WorkerMetrics> workers;  // empty in deterministic mode
  std::vector<ActorTypeMetrics> actor_types;
  // The deepest mailboxes seen in the last few seconds, deepest first, at most 10. An actor is
  // seen by itself, at the end of a sampled turn that left messages waiting.
  std::vector<MailboxDepth> mailboxes;
  std::array<std::uint64_t, dead_letter_reasons> dead_letters{};
  std::uint64_t live_actors = 0;
  std::uint64_t timers_pending = 0;    // one-shot and periodic timers not yet fired or cancelled
  std::uint64_t blocking_threads = 0;  // threads of blocking actors (SpawnOptions::blocking)
  std::uint64_t stuck_turns = 0;       // turns the safety net found stuck (Config::stuck_turn)
  std::uint64_t compensating_started = 0;
  std::vector<NodeMetrics> nodes;  // filled by the system's nodes (transport)
};

}  // namespace troupe
