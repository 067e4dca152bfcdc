#include "report.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace contrast {

namespace {

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

std::string format_ms(double ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", ms);
  return text;
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

}  // namespace

void print_report(const std::vector<Cell>& cells) {
  std::printf("%-8s %-18s %10s %8s  %-7s  %s\n", "workload", "model", "secs", "speedup", "correct", "detail");
  bool any_lateness = false;
  for (const Cell& c : cells) {
    std::printf("%-8s %-18s %10s %8s  %-7s  %s\n", c.workload.c_str(), c.model.c_str(), format_secs(c.secs).c_str(),
                format_speedup(c.speedup).c_str(), c.correct ? "yes" : "NO", c.detail.c_str());
    any_lateness = any_lateness || c.lateness.has_value();
  }
  if (any_lateness) {
    std::printf("\nhog: how late the ticks were handled (ms)\n%-18s %10s %10s %10s %14s\n", "model", "p50", "p99",
                "max", "ticks");
    for (const Cell& c : cells) {
      if (!c.lateness) continue;
      const Lateness& l = *c.lateness;
      std::printf("%-18s %10s %10s %10s %6llu/%-7llu\n", c.model.c_str(), format_ms(l.p50_ms).c_str(),
                  format_ms(l.p99_ms).c_str(), format_ms(l.max_ms).c_str(), static_cast<unsigned long long>(l.ticks),
                  static_cast<unsigned long long>(l.expected));
    }
  }
  std::printf("\n");
  for (const Cell& c : cells) {
    std::printf("compare workload=%s model=%s secs=%s speedup=%s correct=%s", c.workload.c_str(), c.model.c_str(),
                format_secs(c.secs).c_str(), format_speedup(c.speedup).c_str(), c.correct ? "yes" : "no");
    if (c.lateness) {
      std::printf(" p50_ms=%s p99_ms=%s max_ms=%s", format_ms(c.lateness->p50_ms).c_str(),
                  format_ms(c.lateness->p99_ms).c_str(), format_ms(c.lateness->max_ms).c_str());
    }
    std::printf("\n");
  }
}

void write_results(const std::string& dir, const Params& p, std::chrono::microseconds io_latency,
                   const std::vector<Cell>& cells) {
  std::filesystem::create_directories(dir);
  std::ofstream csv(dir + "/results.csv");
  csv << "workload,model,secs,speedup,correct,p50_ms,p99_ms,max_ms,detail\n";
  for (const Cell& c : cells) {
    csv << c.workload << ',' << c.model << ',' << format_secs(c.secs) << ',' << format_speedup(c.speedup) << ','
        << (c.correct ? "yes" : "no") << ',';
    if (c.lateness) {
      csv << format_ms(c.lateness->p50_ms) << ',' << format_ms(c.lateness->p99_ms) << ','
          << format_ms(c.lateness->max_ms);
    } else {
      csv << ",,";
    }
    csv << ",\"" << c.detail << "\"\n";
  }
  std::ofstream json(dir + "/results.json");
  auto ms = [](std::chrono::microseconds d) { return static_cast<double>(d.count()) / 1000.0; };
  json << "{\n  \"params\": {\"workers\": " << p.workers << ", \"cpu_n\": " << p.cpu_first
       << ", \"counter_workers\": " << p.counter_workers << ", \"counter_increments\": " << p.counter_increments
       << ", \"bank_workers\": " << p.bank_workers << ", \"bank_accounts\": " << p.bank_accounts
       << ", \"bank_transfers\": " << p.bank_transfers << ", \"io_requests\": " << p.io_requests
       << ", \"io_latency_ms\": " << ms(io_latency) << ", \"io_concurrency\": " << p.io_concurrency
       << ", \"switch_interval_ms\": " << ms(p.switch_interval) << ", \"hog_tasks\": " << p.hog_tasks
       << ", \"hogs\": " << p.hogs << ", \"hog_period_ms\": " << ms(p.hog_period)
       << ", \"hog_duration_ms\": " << ms(p.hog_duration) << ", \"hog_burst_ms\": " << ms(p.hog_burst)
       << ", \"hog_bursts\": " << p.hog_bursts << "},\n  \"results\": [\n";
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const Cell& c = cells[i];
    json << "    {\"workload\": \"" << c.workload << "\", \"model\": \"" << c.model
         << "\", \"secs\": " << format_secs(c.secs)
         << ", \"speedup\": " << (c.speedup ? format_speedup(c.speedup) : "null")
         << ", \"correct\": " << (c.correct ? "true" : "false") << ", \"lateness\": ";
    if (c.lateness) {
      json << "{\"p50_ms\": " << format_ms(c.lateness->p50_ms) << ", \"p99_ms\": " << format_ms(c.lateness->p99_ms)
           << ", \"max_ms\": " << format_ms(c.lateness->max_ms) << ", \"ticks\": " << c.lateness->ticks
           << ", \"expected\": " << c.lateness->expected << "}";
    } else {
      json << "null";
    }
    json << ", \"detail\": \"" << json_escape(c.detail) << "\"}" << (i + 1 < cells.size() ? "," : "") << "\n";
  }
  json << "  ]\n}\n";
}

}  // namespace contrast
