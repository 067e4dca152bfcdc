#include "node_metrics.hpp"

#include "connection.hpp"
#include "node_core.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>

namespace troupe::transport::detail {

std::string_view peer_state(const Peer& p) noexcept {
  // The cluster declared this run gone: so it stays, connected or not, until another run connects.
  if (p.declared_down != 0 && (p.connection == nullptr || p.incarnation == p.declared_down)) return "declared_down";
  if (p.connection != nullptr) return "up";
  if (p.dial.dialing) return "connecting";
  return "down";  // never connected yet, lost, or waiting for the backoff before the next dial
}

void NodeMetricsSource::start(std::thread::id transport_thread) {
  transport_thread_ = transport_thread;
  source_ = node_.system().add_metrics_source([this](MetricsSnapshot& snapshot) { fill(snapshot); });
}

void NodeMetricsSource::stop() {
  if (!source_) return;
  node_.system().remove_metrics_source(*source_);  // waits for a snapshot filling it now
  source_.reset();
}

void NodeMetricsSource::fill(MetricsSnapshot& snapshot) {
  if (std::this_thread::get_id() == transport_thread_) {
    snapshot.nodes.push_back(collect());
    return;
  }
  // What the transport thread answers. `over` is set once the collection ran, or once its task
  // was dropped unrun (the loop stopping), whichever: the waiter need not wait for the bound.
  struct Answer {
    std::mutex mutex;
    std::condition_variable done;
    std::optional<NodeMetrics> metrics;  // under mutex
    bool over = false;                   // under mutex
    void finish(std::optional<NodeMetrics> collected) {
      {
        std::lock_guard lock(mutex);
        if (collected) metrics = std::move(collected);
        over = true;
      }
      done.notify_all();
    }
  };
  // Shared with the task, which may run after a waiter that gave up has gone.
  auto answer = std::make_shared<Answer>();
  struct Unrun {  // the task's; tells the waiter if the task is destroyed without running
    explicit Unrun(std::shared_ptr<Answer> a) : answer(std::move(a)) {}
    Unrun(const Unrun&) = delete;
    Unrun& operator=(const Unrun&) = delete;
    ~Unrun() { answer->finish(std::nullopt); }
    std::shared_ptr<Answer> answer;
  };
  node_.post([this, unrun = std::make_shared<Unrun>(answer)]() { unrun->answer->finish(collect()); });
  std::unique_lock lock(answer->mutex);
  answer->done.wait_for(lock, kMetricsWait, [&] { return answer->over; });
  snapshot.nodes.push_back(answer->metrics ? std::move(*answer->metrics) : without_peers());
}

NodeMetrics NodeMetricsSource::without_peers() const {
  NodeMetrics node{.name = node_.config().name, .peers = {}, .refusals = {}};
  const auto& by_cause = node_.counters().refused_by_cause;
  node.refusals.reserve(kRefusalCauses);
  for (std::size_t cause = 0; cause < kRefusalCauses; ++cause) {
    node.refusals.emplace_back(std::string(kRefusalCauseNames[cause]), NodeCounters::read(by_cause[cause]));
  }
  return node;
}

NodeMetrics NodeMetricsSource::collect() {
  NodeMetrics node = without_peers();
  node_.peers().for_each([&](const Peer& p) {
    if (!p.seed) node.peers.push_back(peer_metrics(p));  // a seed's placeholder is no node
  });
  return node;
}

PeerMetrics NodeMetricsSource::peer_metrics(const Peer& p) const {
  PeerMetrics m;
  m.node = p.name;
  if (p.address) {
    m.address = host_port_text(p.address->first, p.address->second);
  } else if (p.connection != nullptr) {  // it came from there, and said nothing of where it listens
    const PeerAddress& from = p.connection->from();
    m.address = from.address.empty() ? from.text : from.address;
  }
  m.state = std::string(peer_state(p));
  m.envelopes_out = p.counts.envelopes_out;
  m.envelopes_in = p.counts.envelopes_in;
  m.bytes_out = p.counts.bytes_out;
  m.bytes_in = p.counts.bytes_in;
  // The peer grants envelopes and bytes; what this node may send now is the bytes, or nothing
  // once the envelopes are spent (whichever runs out stops the writer).
  m.credit = p.outbox.credit() == 0 ? 0 : static_cast<std::int64_t>(p.outbox.credit_bytes());
  // The queue is summed here rather than kept as a running total, which every path that takes
  // an envelope off it would have to keep right; it is bounded (NodeConfig::max_outbound_queue),
  // and this runs once per snapshot.
  const auto& queued = p.outbox.envelopes();
  m.outbound_envelopes = queued.size();
  for (const OutEnvelope& e : queued) m.outbound_bytes += e.wire_bytes(false);
  m.rtt_seconds = std::chrono::duration<double>(p.counts.rtt).count();
  m.downs = p.counts.downs;
  return m;
}

}  // namespace troupe::transport::detail
