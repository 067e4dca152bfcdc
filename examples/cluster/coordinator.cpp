// The word count's coordinator (word_count.hpp): lanes to the counters on worker nodes, recruited
// from the cluster's member events or spawned on a static list of peers, and the verified result.
#include "word_count.hpp"

#include <troupe/troupe.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include <csignal>
#include <ctime>

namespace word_count {

namespace {

// Local messages between the coordinator and its lanes (they never cross nodes).
struct Assign {
  std::uint64_t chunk;
};
struct LaneDone {
  std::size_t lane;
  ChunkCounts counts;
};
struct LaneFailed {
  std::size_t lane;
  std::uint64_t chunk;
  troupe::Error error;
};
struct Run {};
// From the recruiter: counters on a node that came up.
struct AddWorker {
  std::string node;
  troupe::DynamicHandle counter;
};
// From the signal watcher: the node was told to stop (SIGINT, SIGTERM); the run ends unfinished.
struct Abandon {
  std::string why;
};
struct Report {
  bool complete = false;
  Counts counts;
  std::map<std::string, std::size_t> chunks_per_node;
  std::map<std::string, std::size_t> reassigned_from;  // node → chunks handed to others after it failed
  std::set<std::string> nodes_down;
  std::set<std::string> nodes_left;  // left the cluster gracefully mid-run
  std::string abandoned;             // why the run was given up (a stop signal), or empty
};

// Sends one chunk at a time to one remote counter, awaiting its counts.
auto lane(troupe::Context& self, std::size_t index, troupe::DynamicHandle counter, troupe::DynamicHandle coordinator,
          std::shared_ptr<const std::vector<std::string>> corpus, troupe::Duration timeout) {
  return troupe::behavior([&self, index, counter, coordinator, corpus, timeout](Assign a) -> troupe::Task<void> {
    CountChunk request{a.chunk, (*corpus)[a.chunk]};
    troupe::Result<ChunkCounts> r = co_await self.request<ChunkCounts>(counter, std::move(request), timeout);
    if (r) {
      coordinator.send(LaneDone{index, std::move(*r)});
    } else {
      coordinator.send(LaneFailed{index, a.chunk, r.error()});
    }
  });
}

class Coordinator {
 public:
  struct Worker {
    std::string node;
    troupe::DynamicHandle counter;
  };

  // `recruiting`: more workers come (AddWorker) as nodes join, so having none alive is no end.
  Coordinator(troupe::Context& self, std::vector<Worker> workers,
              std::shared_ptr<const std::vector<std::string>> corpus, troupe::Duration timeout, bool recruiting)
      : self_(self), corpus_(std::move(corpus)), timeout_(timeout), recruiting_(recruiting) {
    for (Worker& w : workers) add_lane(std::move(w));
    for (std::uint64_t c = 0; c < corpus_->size(); ++c) todo_.push_back(c);
  }

  auto behavior() {
    return troupe::behavior(
        [this](Run) {
          report_ = self_.promise<Report>();
          started_ = std::chrono::steady_clock::now();
          for (std::size_t i = 0; i < lanes_.size(); ++i) assign(i);
          finish_if_done();
          return *report_;
        },
        [this](LaneDone& done) {
          Lane& lane = lanes_[done.lane];
          lane.busy.reset();
          for (auto& wc : done.counts.counts) result_.counts[wc.word] += wc.count;
          ++result_.chunks_per_node[lane.node];
          ++completed_;
          print_progress();
          assign(done.lane);
          finish_if_done();
        },
        [this](const LaneFailed& failed) {
          Lane& lane = lanes_[failed.lane];
          lane.busy.reset();
          todo_.push_front(failed.chunk);  // someone else takes it next
          ++result_.reassigned_from[lane.node];
          const bool node_gone = failed.error.code == troupe::Errc::node_down ||
                                 failed.error.code == troupe::Errc::node_unreachable ||
                                 failed.error.code == troupe::Errc::dead_actor;
          std::printf("chunk %llu on node %s failed (%s)%s\n", static_cast<unsigned long long>(failed.chunk),
                      lane.node.c_str(), failed.error.message().c_str(), node_gone ? "; its lane stops" : "; retried");
          if (node_gone) {
            lane.alive = false;
          } else {
            assign(failed.lane);
          }
          // The chunk goes to an idle lane, if one is waiting for work.
          for (std::size_t i = 0; i < lanes_.size(); ++i) assign(i);
          finish_if_done();
        },
        [this](AddWorker& w) {
          std::printf("node %s joined: a counter there takes chunks\n", w.node.c_str());
          std::fflush(stdout);
          add_lane(Worker{std::move(w.node), std::move(w.counter)});
          assign(lanes_.size() - 1);
        },
        // Subscribed to the cluster's member events itself (not told by the recruiter's thread):
        // a leaving node's MemberLeaving is queued here before its answer lets the node go, so
        // before the Downs its counters' going brings. Relayed, it could come after them.
        [this](const troupe::transport::MemberLeaving& e) {
          // It is leaving: no new chunks there; one under way finishes, or fails and is reassigned.
          bool had_lanes = false;
          for (Lane& lane : lanes_) {
            if (lane.node != e.member.name || !lane.alive) continue;
            lane.alive = false;
            had_lanes = true;
          }
          if (had_lanes && result_.nodes_left.insert(e.member.name).second) {
            std::printf("node %s is leaving the cluster: its counters take no more chunks\n", e.member.name.c_str());
            std::fflush(stdout);
          }
          finish_if_done();
        },
        [](const troupe::transport::ClusterMembers&) {}, [](const troupe::transport::MemberUp&) {},
        [](const troupe::transport::MemberLeft&) {}, [](const troupe::transport::MemberDown&) {},
        [this](Abandon& a) {
          if (!report_) return;
          // Chunks under way finish on their nodes, unheard: the report goes now, as it stands.
          result_.abandoned = std::move(a.why);
          report_->deliver(std::move(result_));
          report_.reset();
        },
        [this](const troupe::Down& down) {
          // Once the report went, nothing is left to reassign (the node's own stop tells it of
          // every peer's counters).
          if (!report_ || down.reason.kind != troupe::ExitReason::Kind::node_down) return;
          // A node that left said so first (MemberLeaving): its counters going with it is no failure.
          if (lane_node_left(down.actor)) return;
          for (Lane& lane : lanes_) {
            if (lane.counter == down.actor && result_.nodes_down.insert(lane.node).second) {
              std::printf("node %s is down (%s): its chunks go to the other nodes\n", lane.node.c_str(),
                          down.reason.to_string().c_str());
            }
          }
        });
  }

 private:
  struct Lane {
    std::string node;
    troupe::DynamicHandle counter;
    troupe::DynamicHandle actor;
    std::optional<std::uint64_t> busy;
    bool alive;
  };

  bool lane_node_left(const troupe::DynamicHandle& counter) const {
    for (const Lane& lane : lanes_) {
      if (lane.counter == counter) return result_.nodes_left.contains(lane.node);
    }
    return false;
  }

  void add_lane(Worker w) {
    const std::size_t i = lanes_.size();
    self_.monitor(w.counter);
    auto handle = self_.spawn([i, counter = w.counter, me = self_.self(), corpus = corpus_, timeout = timeout_](
                                  troupe::Context& ctx) { return lane(ctx, i, counter, me, corpus, timeout); });
    lanes_.push_back(Lane{std::move(w.node), std::move(w.counter), troupe::DynamicHandle(handle), std::nullopt, true});
  }

  void assign(std::size_t i) {
    Lane& lane = lanes_[i];
    if (!lane.alive || lane.busy || todo_.empty()) return;
    lane.busy = todo_.front();
    todo_.pop_front();
    lane.actor.send(Assign{*lane.busy});
  }

  void print_progress() {
    const std::size_t total = corpus_->size();
    const std::size_t tenth = std::max<std::size_t>(1, total / 10);
    if (completed_ % tenth == 0 || completed_ == total) {
      std::printf("progress: %zu/%zu chunks\n", completed_, total);
      std::fflush(stdout);
    }
  }

  void finish_if_done() {
    if (!report_) return;
    const bool any_busy = std::any_of(lanes_.begin(), lanes_.end(), [](const Lane& l) { return l.busy.has_value(); });
    const bool any_alive = std::any_of(lanes_.begin(), lanes_.end(), [](const Lane& l) { return l.alive; });
    if (completed_ == corpus_->size()) {
      result_.complete = true;
    } else if (any_busy || any_alive || recruiting_) {
      return;  // work under way, lanes that can take what is left, or nodes yet to join
    }
    report_->deliver(std::move(result_));
    report_.reset();
  }

  troupe::Context& self_;
  std::shared_ptr<const std::vector<std::string>> corpus_;
  const troupe::Duration timeout_;
  const bool recruiting_;
  std::vector<Lane> lanes_;
  std::deque<std::uint64_t> todo_;
  std::size_t completed_ = 0;
  Report result_;
  std::optional<troupe::Promise<Report>> report_;
  std::chrono::steady_clock::time_point started_;
};

// While the count runs, takes the node's stop signals (blocked in every thread, troupe_node.cpp)
// and abandons the run on one, so that a coordinating node stops when told, as every node does.
class SignalWatcher {
 public:
  SignalWatcher(const sigset_t& signals, troupe::DynamicHandle to)
      : signals_(signals), coordinator_(std::move(to)), thread_([this] { run(); }) {}
  ~SignalWatcher() {
    stop_.store(true, std::memory_order_relaxed);  // relaxed: polled below; the join orders the rest
    thread_.join();
  }

 private:
  void run() {
    // A wait bounded at 100 ms: the loop sees stop_ soon after the run ends without a signal.
    const timespec poll{0, 100'000'000};
    while (!stop_.load(std::memory_order_relaxed)) {
      const int signal = sigtimedwait(&signals_, nullptr, &poll);
      if (signal < 0) continue;  // EAGAIN (none came) or EINTR
      const char* name = signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "a stop signal";
      std::printf("node stopping (%s): the word count is abandoned\n", name);
      std::fflush(stdout);
      coordinator_.send(Abandon{std::string("stopped by ") + name});
      return;
    }
  }

  const sigset_t signals_;
  const troupe::DynamicHandle coordinator_;
  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: it starts once the rest is ready
};

void print_top_words(const Counts& counts, std::size_t n) {
  std::vector<std::pair<std::string, std::uint64_t>> sorted(counts.begin(), counts.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  for (std::size_t i = 0; i < std::min(n, sorted.size()); ++i) {
    std::printf("  %-12s %llu\n", sorted[i].first.c_str(), static_cast<unsigned long long>(sorted[i].second));
  }
}

// Recruits counters on every worker node that is up or comes up, from the cluster's member
// events (a thread of its own: a remote spawn blocks until the node answers). The coordinator
// hears of a node that leaves from the events itself.
class Recruiter {
 public:
  Recruiter(troupe::System& system, troupe::transport::Node& node, const RunOptions& o, troupe::DynamicHandle to)
      : system_(system), node_(node), options_(o), coordinator_(std::move(to)), thread_([this] { run(); }) {}
  ~Recruiter() {
    stop_.store(true, std::memory_order_relaxed);  // relaxed: polled below; the join orders the rest
    thread_.join();
  }

 private:
  void run() {
    troupe::ScopedActor events(system_);
    node_.cluster().subscribe(events.handle());
    using namespace troupe::transport;
    while (!stop_.load(std::memory_order_relaxed)) {
      (void)events.receive(troupe::behavior(
                               [&](const ClusterMembers& m) {
                                 for (const Member& member : m.members) recruit(member.name);
                               },
                               [&](const MemberUp& e) { recruit(e.member.name); },
                               [](const MemberLeaving&) {},  // the coordinator's to act on
                               [&](const MemberLeft& e) { recruited_.erase(e.member.name); },
                               [&](const MemberDown& e) { recruited_.erase(e.member.name); }),
                           std::chrono::milliseconds(100));
    }
    node_.cluster().unsubscribe(events.handle());
  }

  void recruit(const std::string& name) {
    if (name == node_.name() || !recruited_.insert(name).second) return;
    for (unsigned i = 0; i < options_.counters_per_node; ++i) {
      troupe::Result<troupe::DynamicHandle> counter =
          node_.spawn(name, std::string(kCounterType), CounterArgs{options_.pace_ms}, std::chrono::seconds(10));
      if (!counter) {
        std::printf("cannot spawn a counter on node %s: %s\n", name.c_str(), counter.error().message().c_str());
        return;
      }
      coordinator_.send(AddWorker{name, *counter});
    }
  }

  troupe::System& system_;
  troupe::transport::Node& node_;
  const RunOptions& options_;
  const troupe::DynamicHandle coordinator_;
  std::set<std::string> recruited_;  // the recruiter's thread only
  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: it starts once the rest is ready
};

// Counters on each of a static list of peers, spawned before the run.
std::vector<Coordinator::Worker> spawn_on_peers(troupe::transport::Node& node, const RunOptions& o) {
  std::vector<Coordinator::Worker> workers;
  for (const std::string& peer : o.worker_nodes) {
    for (unsigned i = 0; i < o.counters_per_node; ++i) {
      troupe::Result<troupe::DynamicHandle> counter =
          node.spawn(peer, std::string(kCounterType), CounterArgs{o.pace_ms}, std::chrono::seconds(10));
      if (!counter) {
        std::printf("cannot spawn a counter on node %s: %s\n", peer.c_str(), counter.error().message().c_str());
        break;
      }
      workers.push_back({peer, *counter});
    }
  }
  return workers;
}

}  // namespace

int coordinate(troupe::System& system, troupe::transport::Node& node, const RunOptions& o) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  auto corpus = std::make_shared<const std::vector<std::string>>(make_corpus(o.chunks, o.words_per_chunk, o.seed));
  // The reference: the whole corpus counted in this one process.
  Counts expected;
  for (const std::string& text : *corpus) {
    for (auto& [word, n] : count_words(text)) expected[word] += n;
  }

  std::vector<Coordinator::Worker> workers;
  if (!o.recruit) {
    workers = spawn_on_peers(node, o);
    if (workers.empty()) {
      std::printf("no counters: nothing to run on\ncluster: FAILED\n");
      return 1;
    }
    std::printf("word count: %zu chunks of %zu words, %zu counters on %zu nodes\n", o.chunks, o.words_per_chunk,
                workers.size(), o.worker_nodes.size());
  } else {
    std::printf("word count: %zu chunks of %zu words; %u counters on each worker node as it joins\n", o.chunks,
                o.words_per_chunk, o.counters_per_node);
  }
  std::fflush(stdout);

  auto coordinator = system.spawn<Coordinator>(workers, corpus, o.chunk_timeout, o.recruit);
  std::optional<Recruiter> recruiter;
  if (o.recruit) {
    node.cluster().subscribe(troupe::DynamicHandle(coordinator));
    recruiter.emplace(system, node, o, troupe::DynamicHandle(coordinator));
  }
  std::optional<SignalWatcher> watcher;
  if (o.stop_signals != nullptr) watcher.emplace(*o.stop_signals, troupe::DynamicHandle(coordinator));
  troupe::ScopedActor me(system);
  troupe::Result<Report> report = me.request<Report>(coordinator, Run{}, std::chrono::hours(1));
  watcher.reset();
  recruiter.reset();
  if (o.recruit) node.cluster().unsubscribe(troupe::DynamicHandle(coordinator));
  if (!report) {
    std::printf("no report: %s\ncluster: FAILED\n", report.error().message().c_str());
    return 1;
  }
  const double secs = std::chrono::duration<double>(clock::now() - start).count();
  std::uint64_t total = 0;
  for (auto& [word, n] : report->counts) total += n;
  std::printf("\nresult: %llu words, %zu distinct, in %.2f s\n", static_cast<unsigned long long>(total),
              report->counts.size(), secs);
  print_top_words(report->counts, 10);
  for (auto& [peer, n] : report->chunks_per_node) std::printf("node %s counted %zu chunks\n", peer.c_str(), n);
  for (auto& [peer, n] : report->reassigned_from) {
    std::printf("node %s: %zu chunks reassigned to other nodes\n", peer.c_str(), n);
  }
  if (!report->abandoned.empty()) {
    std::size_t counted = 0;
    for (auto& [peer, n] : report->chunks_per_node) counted += n;
    std::printf("abandoned (%s) after %zu of %zu chunks\ncluster: FAILED\n", report->abandoned.c_str(), counted,
                o.chunks);
    return kAbandoned;
  }
  if (!report->complete) {
    std::printf("incomplete: every node failed\ncluster: FAILED\n");
    return 1;
  }
  if (o.expect_node_down && (report->nodes_down.empty() || report->reassigned_from.empty())) {
    std::printf("no node went down mid-run, though one was expected to\ncluster: FAILED\n");
    return 1;
  }
  if (o.expect_leave && report->nodes_left.empty()) {
    std::printf("no node left mid-run, though one was expected to\ncluster: FAILED\n");
    return 1;
  }
  for (const std::string& late : o.expect_counted_by) {
    if (report->chunks_per_node[late] == 0) {
      std::printf("node %s counted no chunk, though it was expected to join and take some\ncluster: FAILED\n",
                  late.c_str());
      return 1;
    }
  }
  if (report->counts != expected) {
    std::printf("counts differ from the single-process count\ncluster: FAILED\n");
    return 1;
  }
  std::printf("verified against the single-process count: identical\ncluster: OK\n");
  return 0;
}

}  // namespace word_count
