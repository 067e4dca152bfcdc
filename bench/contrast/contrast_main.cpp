// troupe-contrast: runs the contrast's workloads under each model, checks every result, and
// reports times and speedups over the sequential model. See docs/contrast.md, or --help.
//
// Output: progress on stderr; on stdout a table, then one line per cell for scripts (report.hpp):
//   compare workload=cpu model=actors secs=0.412 speedup=1.96 correct=yes
//   compare workload=hog model=gil secs=2.012 speedup=n/a correct=yes p50_ms=0.412 p99_ms=5.630 max_ms=6.100
// With --out DIR, also DIR/results.csv and DIR/results.json. With --trace-dir DIR, each cell runs
// traced (troupe::runtime::trace, on for that cell only) and writes DIR/<workload>-<model>.json (a
// Chrome trace, for Perfetto) and DIR/<workload>-<model>.timeline.dat (for timeline.gp). Exit
// status 1 if any model but the race got a wrong result, 2 for bad options.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <troupe/runtime/trace.hpp>

#include <CLI/CLI.hpp>

#include "latency_server.hpp"
#include "models.hpp"
#include "python_reference.hpp"
#include "report.hpp"
#include "timeline.hpp"

namespace {

using namespace contrast;
using Clock = std::chrono::steady_clock;

struct Options {
  Params params;
  std::vector<Workload> workloads{std::begin(kAllWorkloads), std::end(kAllWorkloads)};
  std::vector<std::string> models;
  std::chrono::microseconds io_latency{10'000};
  std::string out_dir;
  std::string trace_dir;
  std::string python_script;
  std::string python_io_script;
  std::uint64_t python_n = 500'000;
};

// Every option; --quick sets tiny sizes for the ones not given on the command line.
Options parse(int argc, char** argv) {
  Options o;
  Params& p = o.params;
  std::string models_help = "comma-separated model names (default: all):";
  for (const Model& m : all_models()) {
    o.models.emplace_back(m.name);
    models_help += "\n  " + std::string(m.name) + ": " + std::string(m.summary);
  }
  CLI::App app{
      "troupe-contrast: the same workloads as actors, threads, atomics, a GIL model, ...; "
      "checks every result and reports times and speedups over the sequential model"};
  app.get_formatter()->column_width(26);
  std::vector<std::string> workloads;
  std::vector<std::string> models;
  double io_latency_ms = 10;
  double switch_interval_ms = 5;
  bool quick = false;
  const auto positive = CLI::PositiveNumber;
  app.add_option("--workloads", workloads, "comma-separated, of: cpu counter bank io hog (default: all)")
      ->delimiter(',')
      ->check(CLI::IsMember({"cpu", "counter", "bank", "io", "hog"}));
  app.add_option("--models", models, models_help)->delimiter(',');
  app.add_option("--workers", p.workers, "threads / actor worker threads")->check(positive)->capture_default_str();
  app.add_option("--cpu-n", p.cpu_first, "cpu: the first of the 20 values of n")
      ->check(CLI::Range(std::uint64_t{1}, (std::uint64_t{1} << 32) - kCpuValues))
      ->capture_default_str();
  app.add_option("--counter-workers", p.counter_workers, "counter: workers")->check(positive)->capture_default_str();
  app.add_option("--counter-increments", p.counter_increments, "counter: increments per worker")
      ->check(positive)
      ->capture_default_str();
  app.add_option("--bank-workers", p.bank_workers, "bank: tellers")->check(positive)->capture_default_str();
  app.add_option("--bank-accounts", p.bank_accounts, "bank: accounts")
      ->check(CLI::Range(2u, 1u << 30))
      ->capture_default_str();
  app.add_option("--bank-transfers", p.bank_transfers, "bank: transfers per teller")
      ->check(positive)
      ->capture_default_str();
  app.add_option("--io-requests", p.io_requests, "io: requests")->check(positive)->capture_default_str();
  app.add_option("--io-latency-ms", io_latency_ms, "io: the server's latency per request")
      ->check(positive)
      ->capture_default_str();
  app.add_option("--io-concurrency", p.io_concurrency, "io: threads or connections at once")
      ->check(positive)
      ->capture_default_str();
  app.add_option("--switch-interval-ms", switch_interval_ms, "gil: the switch interval")
      ->check(positive)
      ->capture_default_str();
  double hog_period_ms = 2;
  double hog_duration_ms = 2000;
  double hog_burst_ms = 300;
  app.add_option("--hog-tasks", p.hog_tasks, "hog: ticking tasks")->check(positive)->capture_default_str();
  app.add_option("--hog-period-ms", hog_period_ms, "hog: a tick every")->check(positive)->capture_default_str();
  app.add_option("--hog-duration-ms", hog_duration_ms, "hog: how long the tasks tick")
      ->check(positive)
      ->capture_default_str();
  app.add_option("--hog-burst-ms", hog_burst_ms, "hog: how long the hog computes without yielding, each time")
      ->check(positive)
      ->capture_default_str();
  app.add_option("--hog-bursts", p.hog_bursts, "hog: how many times")->check(positive)->capture_default_str();
  app.add_option("--hogs", p.hogs, "hog: tasks that compute at once (0: one per worker)")->capture_default_str();
  app.add_flag("--quick", quick, "tiny sizes, for tests (options given explicitly still apply)");
  app.add_option("--out", o.out_dir, "write DIR/results.csv and DIR/results.json");
  app.add_option("--trace-dir", o.trace_dir,
                 "trace each cell: DIR/<workload>-<model>.json (Chrome trace) and "
                 "DIR/<workload>-<model>.timeline.dat (for timeline.gp)");
  app.add_option("--python", o.python_script, "also run SCRIPT (cpu_reference.py) with python3: CPython cpu rows");
  app.add_option("--python-io", o.python_io_script,
                 "also run SCRIPT (io_reference.py) with python3 against the latency server: CPython io rows");
  app.add_option("--python-n", o.python_n, "the reference's first n (CPython is slow)")
      ->check(positive)
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e) == 0 ? 0 : 2);
  }
  for (const std::string& name : models) {
    if (find_model(name) == nullptr) {
      std::fprintf(stderr, "troupe-contrast: unknown model '%s' (see --help)\n", name.c_str());
      std::exit(2);
    }
  }
  if (!models.empty()) o.models = models;
  if (!workloads.empty()) {
    o.workloads.clear();
    for (const std::string& name : workloads) o.workloads.push_back(*parse_workload(name));
  }
  o.io_latency = std::chrono::microseconds(static_cast<std::int64_t>(io_latency_ms * 1000));
  auto micros = [](double ms) { return std::chrono::microseconds(static_cast<std::int64_t>(ms * 1000)); };
  p.switch_interval = micros(switch_interval_ms);
  p.hog_period = micros(hog_period_ms);
  p.hog_duration = micros(hog_duration_ms);
  p.hog_burst = micros(hog_burst_ms);
  if (quick) {
    auto unless_given = [&app](const char* flag, auto& field, auto value) {
      if (app.count(flag) == 0) field = value;
    };
    unless_given("--cpu-n", p.cpu_first, std::uint64_t{200'000});
    unless_given("--counter-workers", p.counter_workers, 4u);
    unless_given("--counter-increments", p.counter_increments, std::uint64_t{20'000});
    unless_given("--bank-workers", p.bank_workers, 4u);
    unless_given("--bank-accounts", p.bank_accounts, 20u);
    unless_given("--bank-transfers", p.bank_transfers, std::uint64_t{2'000});
    unless_given("--io-requests", p.io_requests, 40u);
    unless_given("--io-concurrency", p.io_concurrency, 8u);
    unless_given("--io-latency-ms", o.io_latency, std::chrono::microseconds(1000));
    unless_given("--python-n", o.python_n, std::uint64_t{20'000});
    unless_given("--hog-tasks", p.hog_tasks, 20u);
    unless_given("--hog-duration-ms", p.hog_duration, std::chrono::microseconds(400'000));
    unless_given("--hog-burst-ms", p.hog_burst, std::chrono::microseconds(60'000));
    unless_given("--hog-bursts", p.hog_bursts, 2u);
  }
  return o;
}

namespace trace = troupe::runtime::trace;

// --trace-dir: tracing is on for one cell only, from just before the model starts to just after it
// returns. The model has joined its threads (or shut its System down) by then, so the buffers are
// quiet when written.
void begin_trace() {
  trace::clear();
  trace::enable(true);
}

// Writes STEM.json (the Chrome trace) and STEM.timeline.dat (the same spans, for timeline.gp),
// with the traces other processes wrote meanwhile (the nodes model's second node) merged in.
void end_trace(const std::string& stem, const std::vector<ProcessTrace>& others) {
  trace::enable(false);
  std::stringstream written;
  trace::write_chrome_json(written);
  std::string json = written.str();
  for (const ProcessTrace& other : others) {
    std::ifstream in(other.path);
    std::stringstream text;
    text << in.rdbuf();
    try {
      json = merge_chrome_trace(json, text.str(), other.label);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "troupe-contrast: %s: the trace of %s is left out: %s\n", stem.c_str(), other.label.c_str(),
                   e.what());
    }
    std::error_code ignored;
    std::filesystem::remove(other.path, ignored);
  }
  std::ofstream(stem + ".json") << json;
  try {
    std::ofstream data(stem + ".timeline.dat");
    std::istringstream in(json);
    write_timeline_data(read_chrome_trace(in), data);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "troupe-contrast: no timeline for %s: %s\n", stem.c_str(), e.what());
  }
  const trace::Summary summary = trace::summary();
  if (summary.dropped > 0)
    std::fprintf(stderr, "troupe-contrast: %s: %zu spans dropped\n", stem.c_str(), summary.dropped);
  trace::clear();
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);

  std::optional<LatencyServer> server;
  for (Workload w : o.workloads) {
    if (w == Workload::io && !server) {
      server.emplace(o.io_latency);
      o.params.io_port = server->port();
    }
  }

  if (!o.trace_dir.empty()) std::filesystem::create_directories(o.trace_dir);

  std::vector<Cell> cells;
  std::size_t total = 0;
  for (Workload w : o.workloads) {
    for (const std::string& name : o.models) total += implements(*find_model(name), w) ? 1 : 0;
  }
  std::size_t done = 0;
  for (Workload w : o.workloads) {
    std::optional<double> sequential;
    for (const std::string& name : o.models) {
      const Model& model = *find_model(name);
      if (!implements(model, w)) continue;  // race: the counter only; nodes: cpu only
      std::fprintf(stderr, "[%zu/%zu] %-7s %-15s ...", ++done, total, std::string(to_string(w)).c_str(), name.c_str());
      std::fflush(stderr);
      const bool traced = !o.trace_dir.empty();
      if (traced) begin_trace();
      const auto start = Clock::now();
      const std::optional<Outcome> outcome = model.run(w, o.params);
      const double secs = std::chrono::duration<double>(Clock::now() - start).count();
      if (traced) {
        end_trace(o.trace_dir + "/" + std::string(to_string(w)) + "-" + name,
                  outcome ? outcome->process_traces : std::vector<ProcessTrace>{});
      }
      if (!outcome) {
        std::fprintf(stderr, " not implemented\n");
        continue;
      }
      std::fprintf(stderr, " %.3f s, %s\n", secs, outcome->detail.c_str());
      Cell c{std::string(to_string(w)), name, secs, std::nullopt, outcome->correct, outcome->detail, outcome->lateness};
      if (name == "sequential") sequential = secs;
      // hog runs for a fixed time under every model: what it measures is the lateness.
      if (sequential && secs > 0 && w != Workload::hog) c.speedup = *sequential / secs;
      cells.push_back(std::move(c));
    }
  }
  auto selected = [&o](Workload wanted) {
    for (Workload w : o.workloads) {
      if (w == wanted) return true;
    }
    return false;
  };
  // The CPython rows: cpu with its own (smaller) n; io against the same latency server.
  if (!o.python_script.empty() && selected(Workload::cpu)) {
    const std::vector<std::string> args{std::to_string(o.python_n), std::to_string(o.params.workers)};
    for (Cell& c : run_python(o.python_script, args, "cpu", "CPython, n from " + std::to_string(o.python_n))) {
      cells.push_back(std::move(c));
    }
  }
  if (!o.python_io_script.empty() && server) {
    const Params& p = o.params;
    const std::vector<std::string> args{std::to_string(p.io_port), std::to_string(p.io_requests),
                                        std::to_string(p.io_concurrency)};
    for (Cell& c : run_python(o.python_io_script, args, "io", "CPython, the same server and requests")) {
      cells.push_back(std::move(c));
    }
  }

  print_report(cells);
  if (!o.out_dir.empty()) write_results(o.out_dir, o.params, o.io_latency, cells);
  // Exit status 1 when a model that must be correct was not (the race is expected to lose updates).
  for (const Cell& c : cells) {
    if (!c.correct && c.model != "race") return 1;
  }
  return 0;
}
