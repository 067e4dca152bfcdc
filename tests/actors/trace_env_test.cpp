// The TROUPE_TRACE variable (README, "Tracing"; Config::trace_path): a system whose Config sets
// no trace path takes one from TROUPE_TRACE as it is constructed, records every worker's turns
// (named after the actor's type) and parked time, and writes them as Chrome trace JSON at
// shutdown. A path in the Config wins over the variable. The variable is set around the
// construction only, and the one the test process had (if any) is put back.
#include <troupe/runtime/trace.hpp>
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>

using namespace troupe_test;
namespace trace = troupe::runtime::trace;

namespace {

struct Work {
  int n;
};

// A class actor, so its turns carry a name of its own in the trace.
class EnvTraced {
 public:
  auto behavior() {
    return troupe::behavior([this](Work w) {
      for (int i = 0; i < w.n; ++i) sum_ = sum_ + static_cast<unsigned>(i);
    });
  }

 private:
  volatile unsigned sum_ = 0;
};

// Sets an environment variable for its lifetime (or until restore()), then puts back what was there.
class EnvVar {
 public:
  EnvVar(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) saved_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~EnvVar() { restore(); }
  EnvVar(const EnvVar&) = delete;
  EnvVar& operator=(const EnvVar&) = delete;
  void restore() {
    if (restored_) return;
    restored_ = true;
    if (saved_) {
      ::setenv(name_, saved_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> saved_;
  bool restored_ = false;
};

std::string temp_path(const char* stem) {
  return std::string("/tmp/") + stem + "-" + std::to_string(::getpid()) + ".json";
}

bool exists(const std::string& path) { return std::ifstream(path).good(); }

// Runs a little work on a traced two-worker system built from `config`, with TROUPE_TRACE set to
// `env_path` while the system is constructed, then shuts it down (which writes the trace).
void run_traced(troupe::Config config, const std::string& env_path) {
  std::optional<troupe::System> system;
  {
    EnvVar env("TROUPE_TRACE", env_path);
    system.emplace(std::move(config));
  }
  CHECK(trace::enabled());  // the variable is gone: it was read as the system was built
  for (int a = 0; a < 4; ++a) {
    auto actor = system->spawn<EnvTraced>();
    for (int m = 0; m < 20; ++m) actor.send(Work{500});
  }
  REQUIRE(system->wait_idle(30s));
  system->shutdown();
  CHECK_FALSE(trace::enabled());
}

struct TraceContents {
  int env_traced_turns = 0;
  int parked_spans = 0;
  std::set<std::string> workers;  // names of worker threads with spans
};

TraceContents read_trace(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  const nlohmann::json doc = nlohmann::json::parse(in);  // throws (fails the test) if malformed
  REQUIRE(doc.contains("traceEvents"));
  std::map<int, std::string> names;
  std::map<int, int> spans;
  TraceContents contents;
  for (const auto& e : doc["traceEvents"]) {
    const int tid = e.at("tid");
    if (e.at("ph") == "M") {
      names[tid] = e.at("args").at("name");
      continue;
    }
    ++spans[tid];
    const std::string name = e.at("name");
    if (e.at("cat") == "run" && name.find("EnvTraced") != std::string::npos) ++contents.env_traced_turns;
    if (e.at("cat") == "park") ++contents.parked_spans;
  }
  for (const auto& [tid, name] : names) {
    if (name.rfind("worker ", 0) == 0 && spans[tid] > 0) contents.workers.insert(name);
  }
  return contents;
}

}  // namespace

TEST_SUITE("trace") {
  TEST_CASE("TROUPE_TRACE=path traces a system whose Config sets no path, and the file is written at shutdown") {
    trace::clear();
    const std::string path = temp_path("troupe-env-trace");
    std::remove(path.c_str());
    troupe::Config config{.workers = 2};
    config.idle_spin = std::chrono::microseconds(0);  // an idle worker parks at once
    run_traced(config, path);

    REQUIRE(exists(path));
    const TraceContents contents = read_trace(path);
    std::remove(path.c_str());
    CHECK(contents.env_traced_turns >= 4);  // each actor ran at least one traced turn
    CHECK(contents.parked_spans >= 1);
    CHECK(contents.workers.size() >= 1);
    trace::clear();
  }

  TEST_CASE("a trace_path in the Config wins over TROUPE_TRACE") {
    trace::clear();
    const std::string env_path = temp_path("troupe-env-trace-unused");
    const std::string config_path = temp_path("troupe-config-trace");
    std::remove(env_path.c_str());
    std::remove(config_path.c_str());
    troupe::Config config{.workers = 2};
    config.trace_path = config_path;
    run_traced(config, env_path);

    CHECK_FALSE(exists(env_path));
    std::remove(env_path.c_str());  // in case it was
    REQUIRE(exists(config_path));
    CHECK(read_trace(config_path).env_traced_turns >= 4);
    std::remove(config_path.c_str());
    trace::clear();
  }
}
