// Reading a Chrome trace back into timeline rows, and the data file for timeline.gp.
#include "timeline.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <tuple>

namespace contrast {

namespace {

std::optional<Activity> activity_of(std::string_view kind) {
  if (kind == "work" || kind == "run") return Activity::working;
  if (kind == "wait_lock") return Activity::waiting_lock;
  if (kind == "wait_io") return Activity::waiting_io;
  if (kind == "park") return Activity::parked;
  return std::nullopt;
}

// Microseconds (with nanosecond decimals, as the trace writes them) to whole nanoseconds.
std::int64_t to_ns(double micros) { return std::llround(micros * 1000.0); }

// "gil thread 10" after "gil thread 9": the name without its trailing number, then the number.
std::tuple<std::string_view, long long, std::string_view> sort_key(std::string_view name) {
  std::size_t digits = name.size();
  while (digits > 0 && std::isdigit(static_cast<unsigned char>(name[digits - 1])) != 0) --digits;
  const std::string_view number = name.substr(digits);
  const long long value = number.empty() || number.size() > 18 ? -1 : std::stoll(std::string(number));
  return {name.substr(0, digits), value, name};
}

std::string gnuplot_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) out += c == '"' ? '\'' : c;  // gnuplot strings have no escapes for '"'
  return out + '"';
}

}  // namespace

Timeline read_chrome_trace(std::istream& in) {
  const nlohmann::json doc = nlohmann::json::parse(in);
  if (!doc.is_object() || !doc.contains("traceEvents") || !doc["traceEvents"].is_array()) {
    throw std::runtime_error("not a Chrome trace: no traceEvents array");
  }
  // Threads by (process, thread) id: a merged trace holds several processes' threads.
  std::map<std::pair<std::int64_t, std::int64_t>, TimelineRow> by_tid;
  for (const nlohmann::json& event : doc["traceEvents"]) {
    const std::string phase = event.at("ph");
    const std::pair<std::int64_t, std::int64_t> tid{event.value("pid", std::int64_t{0}), event.at("tid")};
    if (phase == "M" && event.value("name", "") == "thread_name") {
      by_tid[tid].thread = event.at("args").at("name");
    } else if (phase == "X") {
      const std::optional<Activity> activity = activity_of(event.value("cat", ""));
      if (!activity) continue;  // a span kind a timeline does not draw
      const std::int64_t start = to_ns(event.at("ts").get<double>());
      by_tid[tid].spans.push_back({*activity, start, start + to_ns(event.at("dur").get<double>())});
    }
  }
  // One row per name within a process: a compensating worker started again is a new thread
  // under the same name, one after the other, and draws as the one row it stands for.
  std::map<std::pair<std::int64_t, std::string>, TimelineRow> by_name;
  for (auto& [tid, row] : by_tid) {
    if (row.spans.empty()) continue;  // a thread that recorded nothing (here) has no row
    if (row.thread.empty()) row.thread = "thread " + std::to_string(tid.second);
    TimelineRow& into = by_name[{tid.first, row.thread}];
    into.thread = row.thread;
    into.spans.insert(into.spans.end(), row.spans.begin(), row.spans.end());
  }
  Timeline timeline;
  for (auto& [key, row] : by_name) {
    std::sort(row.spans.begin(), row.spans.end(),
              [](const TimelineSpan& a, const TimelineSpan& b) { return a.start_ns < b.start_ns; });
    timeline.rows.push_back(std::move(row));
  }
  std::stable_sort(timeline.rows.begin(), timeline.rows.end(),
                   [](const TimelineRow& a, const TimelineRow& b) { return sort_key(a.thread) < sort_key(b.thread); });
  return timeline;
}

namespace {

std::int64_t origin_of(const nlohmann::json& trace) {
  if (!trace.is_object() || !trace.contains("traceEvents")) {
    throw std::runtime_error("not a Chrome trace: no traceEvents array");
  }
  const auto other = trace.find("otherData");
  if (other == trace.end() || !other->contains("steady_clock_origin_ns")) {
    throw std::runtime_error("a trace without otherData.steady_clock_origin_ns cannot be aligned");
  }
  return std::stoll(other->at("steady_clock_origin_ns").get<std::string>());
}

bool has_spans(const nlohmann::json& trace) {
  for (const nlohmann::json& event : trace["traceEvents"]) {
    if (event.value("ph", "") == "X") return true;
  }
  return false;
}

}  // namespace

std::string merge_chrome_trace(std::string_view into, std::string_view other, std::string_view label) {
  nlohmann::json merged = nlohmann::json::parse(into);
  const nlohmann::json added = nlohmann::json::parse(other);
  std::int64_t origin = origin_of(merged);
  const std::int64_t added_origin = origin_of(added);
  // A trace with no span has origin 0 (nothing to align with): the other's axis becomes the axis.
  if (!has_spans(merged)) {
    origin = added_origin;
    merged["otherData"]["steady_clock_origin_ns"] = std::to_string(origin);
  }
  const double shift_us = static_cast<double>(added_origin - origin) / 1000.0;
  for (nlohmann::json event : added["traceEvents"]) {
    const std::string phase = event.value("ph", "");
    if (phase == "X") {
      event["ts"] = event.at("ts").get<double>() + shift_us;
    } else if (phase == "M" && event.value("name", "") == "thread_name") {
      event["args"]["name"] = std::string(label) + ": " + event.at("args").at("name").get<std::string>();
    }
    merged["traceEvents"].push_back(std::move(event));
  }
  // ts 0 stays the first span: the other process may have started recording first.
  double first_us = 0;
  for (const nlohmann::json& event : merged["traceEvents"]) {
    if (event.value("ph", "") == "X") first_us = std::min(first_us, event.at("ts").get<double>());
  }
  if (first_us < 0) {
    for (nlohmann::json& event : merged["traceEvents"]) {
      if (event.value("ph", "") == "X") event["ts"] = event.at("ts").get<double>() - first_us;
    }
    const auto moved_ns = static_cast<std::int64_t>(std::llround(first_us * 1000.0));
    merged["otherData"]["steady_clock_origin_ns"] = std::to_string(origin + moved_ns);
  }
  return merged.dump();
}

void write_timeline_data(const Timeline& timeline, std::ostream& out) {
  out << "# row start_ms end_ms activity thread (activity: 0 working, 1 waiting for a lock, "
         "2 waiting for I/O, 3 parked)\n";
  char line[96];
  for (std::size_t r = 0; r < timeline.rows.size(); ++r) {
    const TimelineRow& row = timeline.rows[r];
    const std::string name = gnuplot_string(row.thread);
    for (const TimelineSpan& s : row.spans) {
      std::snprintf(line, sizeof line, "%zu %.6f %.6f %d ", r, static_cast<double>(s.start_ns) / 1e6,
                    static_cast<double>(s.end_ns) / 1e6, static_cast<int>(s.activity));
      out << line << name << '\n';
    }
  }
}

}  // namespace contrast
