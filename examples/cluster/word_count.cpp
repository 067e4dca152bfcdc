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
  static constexpr std::string_view syllables[] = {"ka",  "lo", "mi", "ten", "ra", "vu",  "sho", "pe",
                                                   "dar", "in", "qu", "el",  "zo", "bri", "an",  "tu"};
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

}  // namespace word_count
