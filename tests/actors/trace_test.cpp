// Tracing: a traced system writes Chrome trace event JSON with spans of every worker (turns
// named after the actor type, parked time); untraced, nothing is recorded.
#include <troupe/troupe.hpp>
#include <troupe/runtime/trace.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <unistd.h>

using namespace troupe_test;
namespace trace = troupe::runtime::trace;

namespace {

struct Crunch {
  int n;
};

// A class actor, so its turns carry a recognisable type name.
class Cruncher {
 public:
  auto behavior() {
    return troupe::behavior([this](Crunch c) {
      for (int i = 0; i < c.n; ++i) sum_ = sum_ + static_cast<unsigned>(i) * static_cast<unsigned>(i);
    });
  }

 private:
  volatile unsigned sum_ = 0;
};

std::string temp_path(const char* stem) {
  return std::string("/tmp/") + stem + "-" + std::to_string(::getpid()) + ".json";
}

}  // namespace

TEST_SUITE("trace") {
  TEST_CASE("a traced system writes Chrome trace JSON with spans for every worker") {
    trace::clear();
    const std::string path = temp_path("troupe-trace-test");
    {
      troupe::Config config;
      config.workers = 2;
      config.trace_path = path;
      troupe::System system(config);
      REQUIRE(trace::enabled());
      for (int a = 0; a < 8; ++a) {
        auto actor = system.spawn<Cruncher>();
        for (int m = 0; m < 50; ++m) actor.send(Crunch{2000});
      }
      REQUIRE(system.wait_idle(30s));
    }  // shutdown writes the file
    CHECK_FALSE(trace::enabled());

    std::ifstream in(path);
    REQUIRE(in.good());
    const nlohmann::json doc = nlohmann::json::parse(in);  // throws (fails the test) if malformed
    std::remove(path.c_str());
    REQUIRE(doc.contains("traceEvents"));

    std::map<int, std::string> thread_names;
    std::map<int, int> spans_per_thread;
    int cruncher_turns = 0;
    for (const auto& e : doc["traceEvents"]) {
      const std::string ph = e.at("ph");
      const int tid = e.at("tid");
      if (ph == "M") {
        thread_names[tid] = e.at("args").at("name");
        continue;
      }
      REQUIRE(ph == "X");
      CHECK(e.at("dur").get<double>() >= 0.0);
      CHECK(e.at("ts").get<double>() >= 0.0);
      ++spans_per_thread[tid];
      const std::string name = e.at("name");
      if (e.at("cat") == "run" && name.find("Cruncher") != std::string::npos) ++cruncher_turns;
    }
    CHECK(cruncher_turns >= 8);  // every actor ran at least one traced turn
    std::set<std::string> workers_with_spans;
    for (const auto& [tid, name] : thread_names) {
      if (name.rfind("worker ", 0) == 0 && spans_per_thread[tid] > 0) workers_with_spans.insert(name);
    }
    CHECK(workers_with_spans == std::set<std::string>{"worker 0", "worker 1"});
    trace::clear();
  }

  TEST_CASE("untraced, nothing is recorded") {
    trace::clear();
    REQUIRE_FALSE(trace::enabled());
    if (std::getenv("TROUPE_TRACE") != nullptr) return;  // the environment asked for tracing
    {
      troupe::System system(troupe::Config{.workers = 2});
      auto actor = system.spawn<Cruncher>();
      for (int m = 0; m < 20; ++m) actor.send(Crunch{100});
      REQUIRE(system.wait_idle(30s));
    }
    CHECK(trace::summary().spans == 0);
  }
}
