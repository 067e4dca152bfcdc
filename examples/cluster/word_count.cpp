#include "word_count.hpp"

#include <troupe/troupe.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>

namespace word_count {

Counts count_words(std::string_view text) {
  Counts counts;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) ++counts[word];
    word.clear();
  };
  for (char c : text) {
    if (c >= 'a' && c <= 'z') {
      word.push_back(c);
    } else if (c >= 'A' && c <= 'Z') {
      word.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      flush();
    }
  }
  flush();
  return counts;
}

std::vector<std::string> make_corpus(std::size_t chunks, std::size_t words_per_chunk, std::uint64_t seed) {
  // A vocabulary of 4096 made-up words from syllables; word i is drawn with probability ~ 1/(i+1).
  static constexpr std::string_view syllables[] = {"ka", "lo", "mi", "ten", "ra", "vu", "sho", "pe",
                                                   "dar", "in", "qu", "el", "zo", "bri", "an", "tu"};
  std::vector<std::string> vocabulary;
  for (unsigned i = 0; i < 4096; ++i) {
    std::string w;
    for (unsigned n = i + 1; n != 0; n /= 16) w += syllables[n % 16];
    vocabulary.push_back(std::move(w));
  }
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double log_v = std::log(static_cast<double>(vocabulary.size()));
  std::vector<std::string> corpus;
  corpus.reserve(chunks);
  for (std::size_t c = 0; c < chunks; ++c) {
    std::string text;
    for (std::size_t i = 0; i < words_per_chunk; ++i) {
      // exp(u·ln V) - 1 is spread like 1/(x+1) over [0, V): a few words are very common.
      const auto index = static_cast<std::size_t>(std::exp(unit(random) * log_v)) - 1;
      std::string word = vocabulary[std::min(index, vocabulary.size() - 1)];
      if (random() % 11 == 0) word[0] = static_cast<char>(word[0] - 'a' + 'A');  // counted case-blind
      text += word;
      const auto r = random() % 23;
      text += r == 0 ? ".\n" : r == 1 ? ", " : " ";
    }
    corpus.push_back(std::move(text));
  }
  return corpus;
}

namespace {

// Counts the words of one chunk; with a pace, answers no sooner than pace_ms after the request
// (a timer, not a sleep: the worker thread stays free for other counters).
struct Answer {
  troupe::Promise<ChunkCounts> reply;
  ChunkCounts counts;
};

auto counter(troupe::Context& self, CounterArgs args) {
  return troupe::behavior(
      [&self, args](const CountChunk& chunk) -> troupe::Promise<ChunkCounts> {
        ChunkCounts out{chunk.chunk, {}};
        for (auto& [word, n] : count_words(chunk.text)) out.counts.push_back(WordCount{word, n});
        auto reply = self.promise<ChunkCounts>();
        if (args.pace_ms == 0) {
          reply.deliver(std::move(out));
        } else {
          self.send_after(self.self(), std::chrono::milliseconds(args.pace_ms), Answer{reply, std::move(out)});
        }
        return reply;
      },
      [](Answer& answer) { answer.reply.deliver(std::move(answer.counts)); });
}

}  // namespace

void register_counter(troupe::transport::Node& node) {
  node.register_spawnable<CounterArgs>(std::string(kCounterType), [](troupe::System& system, const CounterArgs& args) {
    return troupe::DynamicHandle(system.spawn([args](troupe::Context& self) { return counter(self, args); }));
  });
}

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
struct Report {
  bool complete = false;
  Counts counts;
  std::map<std::string, std::size_t> chunks_per_node;
  std::map<std::string, std::size_t> reassigned_from;  // node → chunks handed to others after it failed
  std::set<std::string> nodes_down;
};

// Sends one chunk at a time to one remote counter, awaiting its counts.
auto lane(troupe::Context& self, std::size_t index, troupe::DynamicHandle counter,
                      troupe::DynamicHandle coordinator, std::shared_ptr<const std::vector<std::string>> corpus,
                      troupe::Duration timeout) {
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

  Coordinator(troupe::Context& self, std::vector<Worker> workers, std::shared_ptr<const std::vector<std::string>> corpus,
              troupe::Duration timeout)
      : self_(self), corpus_(std::move(corpus)) {
    for (std::size_t i = 0; i < workers.size(); ++i) {
      self_.monitor(workers[i].counter);
      auto handle = self_.spawn([i, counter = workers[i].counter, me = self_.self(), corpus = corpus_, timeout](troupe::Context& ctx) {
        return lane(ctx, i, counter, me, corpus, timeout);
      });
      lanes_.push_back(Lane{workers[i].node, workers[i].counter, troupe::DynamicHandle(handle), std::nullopt, true});
    }
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
        [this](const troupe::Down& down) {
          if (down.reason.kind != troupe::ExitReason::Kind::node_down) return;
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
    } else if (any_busy || any_alive) {
      return;  // work under way, or lanes that can take what is left
    }
    report_->deliver(std::move(result_));
    report_.reset();
  }

  troupe::Context& self_;
  std::shared_ptr<const std::vector<std::string>> corpus_;
  std::vector<Lane> lanes_;
  std::deque<std::uint64_t> todo_;
  std::size_t completed_ = 0;
  Report result_;
  std::optional<troupe::Promise<Report>> report_;
  std::chrono::steady_clock::time_point started_;
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
  if (workers.empty()) {
    std::printf("no counters: nothing to run on\ncluster: FAILED\n");
    return 1;
  }
  std::printf("word count: %zu chunks of %zu words, %zu counters on %zu nodes\n", o.chunks, o.words_per_chunk,
              workers.size(), o.worker_nodes.size());
  std::fflush(stdout);

  auto coordinator = system.spawn<Coordinator>(workers, corpus, o.chunk_timeout);
  troupe::ScopedActor me(system);
  troupe::Result<Report> report = me.request<Report>(coordinator, Run{}, std::chrono::hours(1));
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
  if (!report->complete) {
    std::printf("incomplete: every node failed\ncluster: FAILED\n");
    return 1;
  }
  if (o.expect_node_down && (report->nodes_down.empty() || report->reassigned_from.empty())) {
    std::printf("no node went down mid-run, though one was expected to\ncluster: FAILED\n");
    return 1;
  }
  if (report->counts != expected) {
    std::printf("counts differ from the single-process count\ncluster: FAILED\n");
    return 1;
  }
  std::printf("verified against the single-process count: identical\ncluster: OK\n");
  return 0;
}

}  // namespace word_count
