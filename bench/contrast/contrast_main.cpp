// troupe-contrast: runs the contrast's workloads under each model, checks every result, and
// reports times and speedups over the sequential model. See docs/contrast.md, or --help.
//
// Output: progress on stderr; on stdout a table, then one line per cell for scripts:
//   compare workload=cpu model=actors secs=0.412 speedup=1.96 correct=yes
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

#include "latency_server.hpp"
#include "models.hpp"
#include "timeline.hpp"

namespace {

using namespace contrast;
using Clock = std::chrono::steady_clock;

struct Cell {
  std::string workload;
  std::string model;
  double secs = 0;
  std::optional<double> speedup;
  bool correct = false;
  std::string detail;
};

struct Options {
  Params params;
  std::vector<Workload> workloads{Workload::cpu, Workload::counter, Workload::bank, Workload::io};
  std::vector<std::string> models;
  std::chrono::microseconds io_latency{10'000};
  std::string out_dir;
  std::string trace_dir;
  std::string python_script;
  std::uint64_t python_n = 500'000;
};

void usage(std::FILE* to) {
  std::fprintf(to,
               "usage: troupe-contrast [OPTIONS]\n"
               "  --workloads LIST        comma-separated, of: cpu counter bank io (default: all)\n"
               "  --models LIST           comma-separated model names (default: all)\n"
               "  --workers N             threads / actor worker threads (default 2)\n"
               "  --cpu-n N               cpu: the first of the 20 values of n (default 100000000)\n"
               "  --counter-workers K     counter: workers (default 4)\n"
               "  --counter-increments C  counter: increments per worker (default 1000000)\n"
               "  --bank-workers N        bank: tellers (default 4)\n"
               "  --bank-accounts N       bank: accounts (default 100)\n"
               "  --bank-transfers N      bank: transfers per teller (default 200000)\n"
               "  --io-requests M         io: requests (default 1000)\n"
               "  --io-latency-ms X       io: the server's latency per request (default 10)\n"
               "  --io-concurrency N      io: threads or connections at once (default 100)\n"
               "  --switch-interval-ms X  gil: the switch interval (default 5)\n"
               "  --quick                 tiny sizes, for tests (later options still apply)\n"
               "  --out DIR               write DIR/results.csv and DIR/results.json\n"
               "  --trace-dir DIR         trace each cell: DIR/<workload>-<model>.json (Chrome trace)\n"
               "                          and DIR/<workload>-<model>.timeline.dat (for timeline.gp)\n"
               "  --python SCRIPT         also run SCRIPT (cpu_reference.py) with python3: a CPython row\n"
               "  --python-n N            the reference's first n (default 500000: CPython is slow)\n"
               "models:\n");
  for (const Model& m : all_models()) std::fprintf(to, "  %-15s %s\n", std::string(m.name).c_str(), std::string(m.summary).c_str());
}

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "troupe-contrast: %s (see --help)\n", why.c_str());
  std::exit(2);
}

std::vector<std::string> split(std::string_view list) {
  std::vector<std::string> items;
  std::size_t begin = 0;
  while (begin <= list.size()) {
    const std::size_t end = std::min(list.find(',', begin), list.size());
    if (end > begin) items.emplace_back(list.substr(begin, end - begin));
    begin = end + 1;
  }
  return items;
}

std::uint64_t number(std::string_view flag, const char* text) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || v == 0) fail(std::string(flag) + " needs a positive whole number");
  return v;
}

std::chrono::microseconds millis(std::string_view flag, const char* text) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || !(v > 0)) fail(std::string(flag) + " needs a positive number of milliseconds");
  return std::chrono::microseconds(static_cast<std::int64_t>(v * 1000));
}

void apply_quick(Options& o) {
  o.params.cpu_first = 200'000;
  o.params.counter_workers = 4;
  o.params.counter_increments = 20'000;
  o.params.bank_workers = 4;
  o.params.bank_accounts = 20;
  o.params.bank_transfers = 2'000;
  o.params.io_requests = 40;
  o.params.io_concurrency = 8;
  o.io_latency = std::chrono::milliseconds(1);
  o.python_n = 20'000;
}

Options parse(int argc, char** argv) {
  Options o;
  for (const Model& m : all_models()) o.models.emplace_back(m.name);
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      usage(stdout);
      std::exit(0);
    }
    if (flag == "--quick") {
      apply_quick(o);
      continue;
    }
    if (i + 1 >= argc) fail("unknown option or missing value: " + std::string(flag));
    const char* value = argv[++i];
    Params& p = o.params;
    if (flag == "--workloads") {
      o.workloads.clear();
      for (const std::string& name : split(value)) {
        const std::optional<Workload> w = parse_workload(name);
        if (!w) fail("unknown workload '" + name + "'");
        o.workloads.push_back(*w);
      }
    } else if (flag == "--models") {
      o.models = split(value);
      for (const std::string& name : o.models) {
        if (find_model(name) == nullptr) fail("unknown model '" + name + "'");
      }
    } else if (flag == "--workers") {
      p.workers = static_cast<unsigned>(number(flag, value));
    } else if (flag == "--cpu-n") {
      p.cpu_first = number(flag, value);
      if (p.cpu_first > (std::uint64_t{1} << 32) - kCpuValues) fail("--cpu-n must be below 2^32 - 20");
    } else if (flag == "--counter-workers") {
      p.counter_workers = static_cast<unsigned>(number(flag, value));
    } else if (flag == "--counter-increments") {
      p.counter_increments = number(flag, value);
    } else if (flag == "--bank-workers") {
      p.bank_workers = static_cast<unsigned>(number(flag, value));
    } else if (flag == "--bank-accounts") {
      p.bank_accounts = static_cast<unsigned>(number(flag, value));
      if (p.bank_accounts < 2) fail("--bank-accounts needs at least 2");
    } else if (flag == "--bank-transfers") {
      p.bank_transfers = number(flag, value);
    } else if (flag == "--io-requests") {
      p.io_requests = static_cast<unsigned>(number(flag, value));
    } else if (flag == "--io-latency-ms") {
      o.io_latency = millis(flag, value);
    } else if (flag == "--io-concurrency") {
      p.io_concurrency = static_cast<unsigned>(number(flag, value));
    } else if (flag == "--switch-interval-ms") {
      p.switch_interval = millis(flag, value);
    } else if (flag == "--out") {
      o.out_dir = value;
    } else if (flag == "--trace-dir") {
      o.trace_dir = value;
    } else if (flag == "--python") {
      o.python_script = value;
    } else if (flag == "--python-n") {
      o.python_n = number(flag, value);
    } else {
      fail("unknown option " + std::string(flag));
    }
  }
  return o;
}

std::string format_secs(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", s);
  return text;
}

std::string format_speedup(const std::optional<double>& s) {
  if (!s) return "n/a";
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", *s);
  return text;
}

// Runs the CPython reference: SCRIPT prints "python-sequential SECS OK", "python-threads SECS OK"
// and "python-processes SECS OK" (OK is yes or no). Its speedups are over its own sequential run.
std::vector<Cell> run_python(const Options& o) {
  const std::string command = "python3 '" + o.python_script + "' " + std::to_string(o.python_n) + " " +
                              std::to_string(o.params.workers);
  std::fprintf(stderr, "[python] %s\n", command.c_str());
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {};
  std::vector<Cell> rows;
  char line[256];
  while (std::fgets(line, sizeof line, pipe) != nullptr) {
    std::istringstream in(line);
    Cell c;
    std::string ok;
    if (!(in >> c.model >> c.secs >> ok)) continue;
    c.workload = "cpu";
    c.correct = ok == "yes";
    c.detail = "CPython, n from " + std::to_string(o.python_n);
    rows.push_back(c);
  }
  if (::pclose(pipe) != 0) std::fprintf(stderr, "[python] the reference failed; its rows are left out\n");
  double sequential = 0;
  for (const Cell& c : rows) {
    if (c.model == "python-sequential") sequential = c.secs;
  }
  for (Cell& c : rows) {
    if (sequential > 0 && c.secs > 0) c.speedup = sequential / c.secs;
  }
  return rows;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    if (static_cast<unsigned char>(ch) < 0x20) continue;
    out += ch;
  }
  return out;
}

void write_files(const Options& o, const std::vector<Cell>& cells) {
  std::filesystem::create_directories(o.out_dir);
  std::ofstream csv(o.out_dir + "/results.csv");
  csv << "workload,model,secs,speedup,correct,detail\n";
  for (const Cell& c : cells) {
    csv << c.workload << ',' << c.model << ',' << format_secs(c.secs) << ',' << format_speedup(c.speedup) << ','
        << (c.correct ? "yes" : "no") << ",\"" << c.detail << "\"\n";
  }
  std::ofstream json(o.out_dir + "/results.json");
  const Params& p = o.params;
  json << "{\n  \"params\": {\"workers\": " << p.workers << ", \"cpu_n\": " << p.cpu_first
       << ", \"counter_workers\": " << p.counter_workers << ", \"counter_increments\": " << p.counter_increments
       << ", \"bank_workers\": " << p.bank_workers << ", \"bank_accounts\": " << p.bank_accounts
       << ", \"bank_transfers\": " << p.bank_transfers << ", \"io_requests\": " << p.io_requests
       << ", \"io_latency_ms\": " << o.io_latency.count() / 1000.0 << ", \"io_concurrency\": " << p.io_concurrency
       << ", \"switch_interval_ms\": " << p.switch_interval.count() / 1000.0 << "},\n  \"results\": [\n";
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const Cell& c = cells[i];
    json << "    {\"workload\": \"" << c.workload << "\", \"model\": \"" << c.model << "\", \"secs\": " << format_secs(c.secs)
         << ", \"speedup\": " << (c.speedup ? format_speedup(c.speedup) : "null")
         << ", \"correct\": " << (c.correct ? "true" : "false") << ", \"detail\": \"" << json_escape(c.detail) << "\"}"
         << (i + 1 < cells.size() ? "," : "") << "\n";
  }
  json << "  ]\n}\n";
}

namespace trace = troupe::runtime::trace;

// --trace-dir: tracing is on for one cell only, from just before the model starts to just after it
// returns. The model has joined its threads (or shut its System down) by then, so the buffers are
// quiet when written.
void begin_trace() {
  trace::clear();
  trace::enable(true);
}

// Writes STEM.json (the Chrome trace) and STEM.timeline.dat (the same spans, for timeline.gp).
void end_trace(const std::string& stem) {
  trace::enable(false);
  std::stringstream json;
  trace::write_chrome_json(json);
  std::ofstream(stem + ".json") << json.str();
  try {
    std::ofstream data(stem + ".timeline.dat");
    write_timeline_data(read_chrome_trace(json), data);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "troupe-contrast: no timeline for %s: %s\n", stem.c_str(), e.what());
  }
  const trace::Summary summary = trace::summary();
  if (summary.dropped > 0) std::fprintf(stderr, "troupe-contrast: %s: %zu spans dropped\n", stem.c_str(), summary.dropped);
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
    for (const std::string& name : o.models) total += find_model(name)->run == run_race && w != Workload::counter ? 0 : 1;
  }
  std::size_t done = 0;
  for (Workload w : o.workloads) {
    std::optional<double> sequential;
    for (const std::string& name : o.models) {
      const Model& model = *find_model(name);
      if (model.run == run_race && w != Workload::counter) continue;  // race has the counter only
      std::fprintf(stderr, "[%zu/%zu] %-7s %-15s ...", ++done, total, std::string(to_string(w)).c_str(), name.c_str());
      std::fflush(stderr);
      const bool traced = !o.trace_dir.empty();
      if (traced) begin_trace();
      const auto start = Clock::now();
      const std::optional<Outcome> outcome = model.run(w, o.params);
      const double secs = std::chrono::duration<double>(Clock::now() - start).count();
      if (traced) end_trace(o.trace_dir + "/" + std::string(to_string(w)) + "-" + name);
      if (!outcome) {
        std::fprintf(stderr, " not implemented\n");
        continue;
      }
      std::fprintf(stderr, " %.3f s, %s\n", secs, outcome->detail.c_str());
      Cell c{std::string(to_string(w)), name, secs, std::nullopt, outcome->correct, outcome->detail};
      if (name == "sequential") sequential = secs;
      if (sequential && secs > 0) c.speedup = *sequential / secs;
      cells.push_back(std::move(c));
    }
  }
  if (!o.python_script.empty()) {
    bool cpu_selected = false;
    for (Workload w : o.workloads) cpu_selected = cpu_selected || w == Workload::cpu;
    if (cpu_selected) {
      for (Cell& c : run_python(o)) cells.push_back(std::move(c));
    }
  }

  std::printf("%-8s %-18s %10s %8s  %-7s  %s\n", "workload", "model", "secs", "speedup", "correct", "detail");
  for (const Cell& c : cells) {
    std::printf("%-8s %-18s %10s %8s  %-7s  %s\n", c.workload.c_str(), c.model.c_str(), format_secs(c.secs).c_str(),
                format_speedup(c.speedup).c_str(), c.correct ? "yes" : "NO", c.detail.c_str());
  }
  std::printf("\n");
  for (const Cell& c : cells) {
    std::printf("compare workload=%s model=%s secs=%s speedup=%s correct=%s\n", c.workload.c_str(), c.model.c_str(),
                format_secs(c.secs).c_str(), format_speedup(c.speedup).c_str(), c.correct ? "yes" : "no");
  }
  if (!o.out_dir.empty()) write_files(o, cells);
  // Exit status 1 when a model that must be correct was not (the race is expected to lose updates).
  for (const Cell& c : cells) {
    if (!c.correct && c.model != "race") return 1;
  }
  return 0;
}
