// The contrast's traces: a traced baseline cell records spans on every one of its threads, the GIL
// model's hold spans never overlap between threads, untraced cells record nothing, and a trace reads
// back into the timeline rows that timeline.gp draws.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <troupe/runtime/trace.hpp>

#include "test_support.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "latency_server.hpp"
#include "models.hpp"
#include "test_support.hpp"
#include "timeline.hpp"

using namespace contrast;
namespace trace = troupe::runtime::trace;

namespace {

struct Span {
  std::string kind;
  std::int64_t start_ns;
  std::int64_t end_ns;
};

// Runs one cell with tracing on and returns its spans by thread name, parsed from the Chrome JSON
// (threads that recorded nothing in this cell are left out).
std::map<std::string, std::vector<Span>> traced_cell(ModelFn model, Workload w, const Params& p) {
  trace::clear();
  trace::enable(true);
  const std::optional<Outcome> outcome = model(w, p);
  trace::enable(false);
  REQUIRE(outcome.has_value());
  CHECK(outcome->correct);
  std::stringstream json;
  trace::write_chrome_json(json);
  trace::clear();
  const nlohmann::json doc = nlohmann::json::parse(json);  // throws (fails the test) if malformed
  std::map<std::int64_t, std::string> names;
  std::map<std::int64_t, std::vector<Span>> by_tid;
  for (const nlohmann::json& e : doc.at("traceEvents")) {
    const std::int64_t tid = e.at("tid");
    if (e.at("ph") == "M") {
      names[tid] = e.at("args").at("name");
    } else if (e.at("ph") == "X") {
      const std::int64_t start = std::llround(e.at("ts").get<double>() * 1000);
      by_tid[tid].push_back({e.at("cat"), start, start + std::llround(e.at("dur").get<double>() * 1000)});
    }
  }
  std::map<std::string, std::vector<Span>> by_name;
  for (auto& [tid, spans] : by_tid) by_name[names.at(tid)] = std::move(spans);
  return by_name;
}

std::set<std::string> kinds(const std::vector<Span>& spans) {
  std::set<std::string> out;
  for (const Span& s : spans) out.insert(s.kind);
  return out;
}

Params gil_cpu_params(unsigned threads) {
  Params p;
  p.workers = threads;
  p.cpu_first = 5'000'000;  // tens of ms of work: far more than the switch interval
  p.switch_interval = std::chrono::milliseconds(1);
  return p;
}

}  // namespace

TEST_SUITE("contrast traces") {
  TEST_CASE("a traced gil cpu cell has work and wait_lock spans on both of its threads") {
    // Both threads wait for the lock only if their work overlaps: the second must start before
    // the first is done with all of it. It starts within a millisecond or so; the work takes
    // about half a second (under sanitizers, a 25th of the work on slower code: a tenth of a
    // second or more), far above even a loaded machine's delay in starting a thread.
    Params p = gil_cpu_params(2);
    p.cpu_first = troupe_test::scaled(100'000'000);
    const auto threads = traced_cell(run_gil, Workload::cpu, p);
    REQUIRE(threads.size() == 2);
    for (const char* name : {"gil thread 0", "gil thread 1"}) {
      CAPTURE(name);
      REQUIRE(threads.count(name) == 1);
      const std::set<std::string> seen = kinds(threads.at(name));
      CHECK(seen.count("work") == 1);
      CHECK(seen.count("wait_lock") == 1);
    }
  }

  TEST_CASE("the GIL model's work spans never overlap between threads") {
    for (const unsigned threads : {2u, 4u}) {
      CAPTURE(threads);
      std::vector<Span> work;
      for (const auto& [name, spans] : traced_cell(run_gil, Workload::cpu, gil_cpu_params(threads))) {
        for (const Span& s : spans) {
          if (s.kind == "work") work.push_back(s);
        }
      }
      REQUIRE(work.size() >= threads);
      std::sort(work.begin(), work.end(), [](const Span& a, const Span& b) { return a.start_ns < b.start_ns; });
      for (std::size_t i = 1; i < work.size(); ++i) {
        CAPTURE(i);
        CHECK(work[i].start_ns >= work[i - 1].end_ns);
      }
    }
  }

  TEST_CASE("traced io cells show every thread waiting for I/O") {
    LatencyServer server(std::chrono::milliseconds(2));
    Params p;
    p.io_port = server.port();
    p.io_requests = 12;
    p.io_concurrency = 3;
    p.switch_interval = std::chrono::milliseconds(1);
    const std::vector<std::pair<ModelFn, std::string>> models{
        {run_threads_mutex, "mutex"}, {run_threads_atomic, "atomic"}, {run_gil, "gil"}};
    for (const auto& [model, role] : models) {
      CAPTURE(role);
      const auto threads = traced_cell(model, Workload::io, p);
      CHECK(threads.size() == 3);
      for (unsigned i = 0; i < 3; ++i) {
        const std::string name = role + " thread " + std::to_string(i);
        CAPTURE(name);
        REQUIRE(threads.count(name) == 1);
        CHECK(kinds(threads.at(name)).count("wait_io") == 1);
      }
    }
    const auto sequential = traced_cell(run_sequential, Workload::io, p);
    REQUIRE(sequential.count("sequential") == 1);
    CHECK(kinds(sequential.at("sequential")) == std::set<std::string>{"wait_io"});
  }

  TEST_CASE("a traced event-loop cell is one thread: work in bursts between waits, never overlapping") {
    LatencyServer server(std::chrono::milliseconds(2));
    Params p;
    p.io_port = server.port();
    p.io_requests = 12;
    p.io_concurrency = 3;
    p.hog_tasks = 4;
    p.hog_duration = std::chrono::milliseconds(40);
    p.hog_burst = std::chrono::milliseconds(5);
    p.hog_bursts = 1;
    for (Workload w : {Workload::io, Workload::hog}) {
      CAPTURE(std::string(to_string(w)));
      const auto threads = traced_cell(run_event_loop, w, p);
      REQUIRE(threads.size() == 1);
      REQUIRE(threads.count("event loop") == 1);
      std::vector<Span> spans = threads.at("event loop");
      CHECK(kinds(spans) == std::set<std::string>{"work", "wait_io"});
      std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.start_ns < b.start_ns; });
      for (std::size_t i = 1; i < spans.size(); ++i) {
        CAPTURE(i);
        CHECK(spans[i].start_ns >= spans[i - 1].end_ns);  // one thread: one thing at a time
      }
    }
    // cpu: twenty tasks that never await, one work span each, and no wait at all.
    p.cpu_first = 20'000;
    const auto cpu = traced_cell(run_event_loop, Workload::cpu, p);
    REQUIRE(cpu.size() == 1);
    CHECK(cpu.at("event loop").size() == kCpuValues);
    CHECK(kinds(cpu.at("event loop")) == std::set<std::string>{"work"});
  }

  TEST_CASE("traced cpu cells: a work span per chunk for threads, a run span per actor turn") {
    Params p;
    p.workers = 2;
    p.cpu_first = 20'000;
    const auto sequential = traced_cell(run_sequential, Workload::cpu, p);
    REQUIRE(sequential.count("sequential") == 1);
    CHECK(sequential.at("sequential").size() == kCpuValues);

    const std::vector<std::pair<ModelFn, std::string>> threaded{{run_threads_mutex, "mutex"}, {run_threads_atomic, "atomic"}};
    for (const auto& [model, role] : threaded) {
      CAPTURE(role);
      std::size_t work = 0;
      for (const auto& [name, spans] : traced_cell(model, Workload::cpu, p)) {
        CHECK(name.rfind(role + " thread ", 0) == 0);
        for (const Span& s : spans) work += s.kind == "work" ? 1 : 0;
      }
      CHECK(work == kCpuValues);
    }

    std::size_t turns = 0;
    for (const auto& [name, spans] : traced_cell(run_actors, Workload::cpu, p)) {
      CHECK(name.rfind("worker ", 0) == 0);
      for (const Span& s : spans) turns += s.kind == "run" ? 1 : 0;
    }
    CHECK(turns >= kCpuValues);  // one per square summer, and any of the system's own
  }

  TEST_CASE("untraced cells record nothing") {
    trace::clear();
    REQUIRE_FALSE(trace::enabled());
    Params p;
    p.cpu_first = 20'000;
    p.counter_increments = 20'000;
    p.bank_transfers = 2'000;
    for (const Model& model : all_models()) {
      for (Workload w : {Workload::cpu, Workload::counter, Workload::bank}) model.run(w, p);
    }
    CHECK(trace::summary().spans == 0);
  }

  TEST_CASE("a Chrome trace reads back as timeline rows") {
    std::istringstream json(R"({"traceEvents":[
      {"ph":"M","name":"thread_name","pid":1,"tid":1,"args":{"name":"worker 10"}},
      {"ph":"M","name":"thread_name","pid":1,"tid":2,"args":{"name":"worker 2"}},
      {"ph":"M","name":"thread_name","pid":1,"tid":3,"args":{"name":"idle thread"}},
      {"ph":"X","pid":1,"tid":1,"cat":"park","name":"parked","ts":5.000,"dur":1.500},
      {"ph":"X","pid":1,"tid":1,"cat":"run","name":"Cruncher","ts":0.000,"dur":5.000},
      {"ph":"X","pid":1,"tid":2,"cat":"wait_io","name":"waits","ts":1.000,"dur":2000.000},
      {"ph":"X","pid":1,"tid":2,"cat":"wait_lock","name":"waits","ts":2001.000,"dur":0.250},
      {"ph":"X","pid":1,"tid":2,"cat":"work","name":"sums","ts":2001.250,"dur":1.000}]})");
    const Timeline timeline = read_chrome_trace(json);
    REQUIRE(timeline.rows.size() == 2);  // the thread without spans has no row
    CHECK(timeline.rows[0].thread == "worker 2");  // by number, not by text
    CHECK(timeline.rows[1].thread == "worker 10");
    const auto& w2 = timeline.rows[0].spans;
    REQUIRE(w2.size() == 3);
    CHECK(w2[0].activity == Activity::waiting_io);
    CHECK(w2[0].end_ns == 2'001'000);
    CHECK(w2[1].activity == Activity::waiting_lock);
    CHECK(w2[2].activity == Activity::working);
    const auto& w10 = timeline.rows[1].spans;
    REQUIRE(w10.size() == 2);
    CHECK(w10[0].activity == Activity::working);  // sorted by start
    CHECK(w10[1].activity == Activity::parked);
    CHECK(w10[1].start_ns == 5'000);
    CHECK(w10[1].end_ns == 6'500);

    std::ostringstream data;
    write_timeline_data(timeline, data);
    std::istringstream lines(data.str());
    std::string line;
    std::vector<std::string> spans;
    while (std::getline(lines, line)) {
      if (!line.empty() && line[0] != '#') spans.push_back(line);
    }
    REQUIRE(spans.size() == 5);
    CHECK(spans[0] == "0 0.001000 2.001000 2 \"worker 2\"");
    CHECK(spans[4] == "1 0.005000 0.006500 3 \"worker 10\"");
  }

  TEST_CASE("another process's trace merges in, on one time axis, its threads named after it") {
    // Both processes' thread 1 is "worker 0"; the peer's clock origin is 0.5 ms later.
    const std::string tool = R"({"otherData":{"steady_clock_origin_ns":"1000000000"},"traceEvents":[
      {"ph":"M","name":"thread_name","pid":10,"tid":1,"args":{"name":"worker 0"}},
      {"ph":"X","pid":10,"tid":1,"cat":"run","name":"Summer","ts":0.000,"dur":100.000}]})";
    const std::string peer = R"({"otherData":{"steady_clock_origin_ns":"1000500000"},"traceEvents":[
      {"ph":"M","name":"thread_name","pid":20,"tid":1,"args":{"name":"worker 0"}},
      {"ph":"X","pid":20,"tid":1,"cat":"run","name":"Summer","ts":10.000,"dur":100.000}]})";
    std::istringstream merged(merge_chrome_trace(tool, peer, "peer"));
    const Timeline timeline = read_chrome_trace(merged);
    REQUIRE(timeline.rows.size() == 2);  // one thread id, two processes: two rows
    CHECK(timeline.rows[0].thread == "peer: worker 0");
    CHECK(timeline.rows[1].thread == "worker 0");
    REQUIRE(timeline.rows[0].spans.size() == 1);
    CHECK(timeline.rows[0].spans[0].start_ns == 510'000);  // 0.5 ms later, then 10 us in
    CHECK(timeline.rows[1].spans[0].start_ns == 0);

    // A peer that recorded first: ts 0 stays the first span, and the origin moves with it.
    const std::string early = R"({"otherData":{"steady_clock_origin_ns":"999000000"},"traceEvents":[
      {"ph":"M","name":"thread_name","pid":20,"tid":1,"args":{"name":"worker 0"}},
      {"ph":"X","pid":20,"tid":1,"cat":"run","name":"Summer","ts":0.000,"dur":100.000}]})";
    const std::string both = merge_chrome_trace(tool, early, "peer");
    CHECK(both.find(R"("steady_clock_origin_ns":"999000000")") != std::string::npos);
    std::istringstream rebased(both);
    const Timeline shifted = read_chrome_trace(rebased);
    REQUIRE(shifted.rows.size() == 2);
    CHECK(shifted.rows[0].spans[0].start_ns == 0);
    CHECK(shifted.rows[1].spans[0].start_ns == 1'000'000);  // the tool's span, 1 ms after the peer's

    // Without its clock origin a trace cannot be placed: refused, not misplaced.
    CHECK_THROWS(merge_chrome_trace(tool, R"({"traceEvents":[]})", "peer"));
  }

  TEST_CASE("threads of one process that share a name share a row") {
    // A compensating worker that retired and started again: two threads, one after the other.
    std::istringstream json(R"({"traceEvents":[
      {"ph":"M","name":"thread_name","pid":1,"tid":7,"args":{"name":"compensating worker 0"}},
      {"ph":"M","name":"thread_name","pid":1,"tid":9,"args":{"name":"compensating worker 0"}},
      {"ph":"X","pid":1,"tid":9,"cat":"run","name":"Summer","ts":50.000,"dur":10.000},
      {"ph":"X","pid":1,"tid":7,"cat":"run","name":"Summer","ts":0.000,"dur":10.000}]})");
    const Timeline timeline = read_chrome_trace(json);
    REQUIRE(timeline.rows.size() == 1);
    REQUIRE(timeline.rows[0].spans.size() == 2);
    CHECK(timeline.rows[0].spans[0].start_ns == 0);  // in time order across the two threads
    CHECK(timeline.rows[0].spans[1].start_ns == 50'000);
  }

  TEST_CASE("the runtime's trace carries its process id and clock origin, for merging") {
    trace::clear();
    trace::enable(true);
    const auto start = trace::Clock::now();
    trace::record(trace::SpanKind::work, "sums", start, start + std::chrono::microseconds(5));
    trace::enable(false);
    std::ostringstream json;
    trace::write_chrome_json(json);
    trace::clear();
    const std::string text = json.str();
    const std::string origin_ns =
        std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(start.time_since_epoch()).count());
    CHECK(text.find(R"("steady_clock_origin_ns":")" + origin_ns + "\"") != std::string::npos);
    CHECK(text.find("\"pid\":" + std::to_string(::getpid()) + ",") != std::string::npos);
  }

  TEST_CASE("what is not a trace is refused") {
    std::istringstream not_json("not json");
    CHECK_THROWS(read_chrome_trace(not_json));
    std::istringstream no_events(R"({"events":[]})");
    CHECK_THROWS(read_chrome_trace(no_events));
  }
}
