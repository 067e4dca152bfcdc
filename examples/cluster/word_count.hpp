// The distributed example: a map-reduce word count over several nodes.
//
//   node a (coordinator)                       node b, node c (workers)
//   ┌──────────────────────────────┐           ┌──────────────────────┐
//   │ Coordinator ── Assign ─▶ Lane ├─request──▶│ word-counter actors  │
//   │   ▲   (one lane per remote    │◀─counts───│ (spawned remotely by │
//   │   └── Done/Failed ── worker)  │           │  name)               │
//   └──────────────────────────────┘           └──────────────────────┘
//
// The worker nodes join the cluster through a seed; the coordinator subscribes to the cluster's
// member events and recruits each worker node as it comes up (also one that joins mid-run). A node
// that leaves gracefully gets no more chunks; those it had are counted elsewhere. (With a static
// list of peers instead, the coordinator spawns on those before the run.)
//
// The coordinator generates a corpus, spawns word counters on the worker nodes by remote spawn,
// and gives each counter a local Lane actor that sends it one chunk at a time (a request, awaited
// in a coroutine so a slow counter holds up only its own lane). The coordinator monitors every
// counter: a node that goes down (killed, partitioned) shows as Down with reason node_down, and
// the chunks its counters had are handed to the counters that remain. At the end the merged
// counts are checked against a count of the whole corpus in one process.
#pragma once

#include <troupe/transport/node.hpp>
#include <troupe/transport/wire_type.hpp>

#include <csignal>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace word_count {

// The messages that cross nodes, each declared once for the wire.
struct WordCount {
  std::string word;
  std::uint64_t count = 0;
};
TROUPE_WIRE_MESSAGE(WordCount, word, count);

struct CountChunk {  // coordinator → counter (a request)
  std::uint64_t chunk = 0;
  std::string text;
};
TROUPE_WIRE_MESSAGE(CountChunk, chunk, text);

struct ChunkCounts {  // counter → coordinator (the reply)
  std::uint64_t chunk = 0;
  std::vector<WordCount> counts;
};
TROUPE_WIRE_MESSAGE(ChunkCounts, chunk, counts);

struct CounterArgs {          // the remote spawn's arguments
  std::uint32_t pace_ms = 0;  // each chunk takes at least this long (a slower machine; to watch a run)
};
TROUPE_WIRE_MESSAGE(CounterArgs, pace_ms);

using Counts = std::unordered_map<std::string, std::uint64_t>;

// Lower-case words made of letters; everything else separates them.
Counts count_words(std::string_view text);

// A reproducible corpus: `chunks` texts of `words_per_chunk` words each, drawn from a fixed
// vocabulary with a skewed (Zipf-like) distribution, with punctuation and line breaks.
std::vector<std::string> make_corpus(std::size_t chunks, std::size_t words_per_chunk, std::uint64_t seed);

// The actor type worker nodes host: "word-counter", spawnable by name from other nodes.
inline constexpr std::string_view kCounterType = "word-counter";
void register_counter(troupe::transport::Node& node);

struct RunOptions {
  std::vector<std::string> worker_nodes;  // peers to spawn counters on
  unsigned counters_per_node = 2;
  std::size_t chunks = 200;
  std::size_t words_per_chunk = 2000;
  std::uint32_t pace_ms = 0;
  std::uint64_t seed = 1;
  troupe::Duration chunk_timeout = std::chrono::seconds(30);
  // A node is expected to fail mid-run (`./run cluster --kill-one`): the run counts as verified
  // only if a node was seen down and its chunks were counted elsewhere.
  bool expect_node_down = false;
  // Workers come from the cluster's member events (seeds): counters are spawned on each node as
  // it comes up, and a node that leaves gets no more chunks. Else worker_nodes is the list.
  bool recruit = false;
  bool expect_leave = false;                   // a worker node is to leave gracefully mid-run
  std::vector<std::string> expect_counted_by;  // nodes that must have counted at least one chunk
  // Signals that stop the node (blocked in every thread): one abandons the run. Null: none taken.
  const sigset_t* stop_signals = nullptr;
};

// Runs the word count from this node; prints progress, node-down events and the result, and ends
// with "cluster: OK" when the merged counts equal the single-process count. Returns 0 then, 1 if
// not (or if no worker node could be used), kAbandoned if a stop signal ended it.
inline constexpr int kAbandoned = 3;
int coordinate(troupe::System& system, troupe::transport::Node& node, const RunOptions& options);

}  // namespace word_count
