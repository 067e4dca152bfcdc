#include <troupe/runtime/log.hpp>

#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <ctime>

namespace troupe::runtime {
namespace {

bool needs_quotes(std::string_view value) noexcept {
  if (value.empty()) return true;
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= ' ' || byte == 0x7f || c == '=' || c == '"') return true;
  }
  return false;
}

void append_value(std::string& line, std::string_view value) {
  if (!needs_quotes(value)) {
    line += value;
    return;
  }
  line += '"';
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        line += "\\\"";
        break;
      case '\\':
        line += "\\\\";
        break;
      case '\n':
        line += "\\n";
        break;
      case '\r':
        line += "\\r";
        break;
      case '\t':
        line += "\\t";
        break;
      default:
        if (byte < ' ' || byte == 0x7f) {
          char escaped[5];
          std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
          line += escaped;
        } else {
          line += c;
        }
    }
  }
  line += '"';
}

void append_key(std::string& line, std::string_view key) {
  line += ' ';
  for (const char c : key) {
    const bool plain =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    line += plain ? c : '_';
  }
  line += '=';
}

void append_field(std::string& line, std::string_view key, std::string_view value) {
  if (value.empty()) return;  // absent
  append_key(line, key);
  append_value(line, value);
}

// 2025-01-31T09:15:02.123456Z
void append_time(std::string& line, std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto micros = duration_cast<microseconds>(time.time_since_epoch()).count();
  auto seconds = static_cast<std::time_t>(micros / 1'000'000);
  auto fraction = micros % 1'000'000;
  if (fraction < 0) {  // before 1970: floor, not truncate
    --seconds;
    fraction += 1'000'000;
  }
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  const int n =
      std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", utc.tm_year + 1900, utc.tm_mon + 1,
                    utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<long long>(fraction));
  if (n > 0 && static_cast<std::size_t>(n) < sizeof text) line.append(text, static_cast<std::size_t>(n));
}

}  // namespace

std::string_view to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warning:
      return "warning";
    case LogLevel::error:
      return "error";
    case LogLevel::off:
      return "off";
  }
  return "unknown";
}

std::string format_log_line(const LogEvent& event) {
  std::string line;
  line.reserve(160 + event.message.size());
  line += "time=";
  // An event not stamped by a Logger (a sink called directly) is dated now.
  append_time(line,
              event.time == std::chrono::system_clock::time_point{} ? std::chrono::system_clock::now() : event.time);
  append_key(line, "level");
  line += to_string(event.level);
  append_key(line, "event");
  append_value(line, event.name);
  append_field(line, "node", event.node);
  append_field(line, "peer", event.peer);
  append_field(line, "actor", event.actor);
  append_field(line, "reason", event.reason);
  for (const LogField& field : event.fields) {
    append_key(line, field.key);
    append_value(line, field.value);
  }
  append_key(line, "msg");
  append_value(line, event.message);
  return line;
}

void log_to_stderr(const LogEvent& event) noexcept {
  try {
    std::string line = format_log_line(event);
    line += '\n';
    // One write: concurrent lines stay whole (a pipe keeps writes up to PIPE_BUF whole; a file or
    // terminal takes each write as one piece). Only a write cut short continues in a second one.
    const char* data = line.data();
    std::size_t left = line.size();
    while (left > 0) {
      const ssize_t written = ::write(STDERR_FILENO, data, left);
      if (written < 0) {
        if (errno == EINTR) continue;
        return;  // nowhere to say it
      }
      data += written;
      left -= static_cast<std::size_t>(written);
    }
  } catch (...) {  // no memory for the line: the event is lost, not the process
  }
}

Logger::Logger(LogConfig config)
    : sink_(config.sink ? std::make_shared<const LogSink>(std::move(config.sink)) : nullptr), level_(config.level) {}

void Logger::log(LogEvent event) const noexcept {
  if (!enabled(event.level)) return;
  event.time = std::chrono::system_clock::now();
  if (!sink_) {
    log_to_stderr(event);
    return;
  }
  try {
    (*sink_)(event);
  } catch (...) {  // a throwing sink must not take the runtime down
  }
}

}  // namespace troupe::runtime
