// Wraps README blocks that use a running system and the tour's message types: a function's body,
// with the names those blocks take for granted declared here.
#include <troupe/troupe.hpp>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

struct Add {
  int n;
};
struct Get {};
struct Ping {
  int n;
};
struct Tick {};
struct Fetch {
  std::string path;
};
struct Item {
  int n;
};

std::string read_whole_file(const std::string& path) { return path; }

void readme_block(troupe::System& system) {
  auto ticker = system.spawn([](troupe::Context&) { return troupe::behavior([](Tick) {}); });
  auto slow_sink = [](troupe::Context&) { return troupe::behavior([](Item) {}); };
  // @README_BLOCK@
}
