// What a troupe process says about itself: connections made and refused, peers down, actors that
// failed, supervisors' restarts and escalations, stuck turns. Every such event goes through one
// Logger, which the System owns (Config::log) and hands to its scheduler and its nodes, in the
// spirit of Erlang's logger and Go's log/slog: an event is a level, a stable name, a sentence for
// people and structured fields; a sink receives it; a minimum level drops the rest before they
// cost anything. README.md, "Logs", lists the events with their levels and fields.
//
//   troupe::System system({.log = {.sink = [](const troupe::LogEvent& e) { my_logger.write(e); },
//                                  .level = troupe::LogLevel::debug}});
//
// Where troupe logs, it first asks Logger::enabled, and builds its message only then: an event
// below the minimum level costs a comparison, and allocates nothing. Nothing is logged per
// message on the hot path; events are rare (a connection, a failure, a restart).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace troupe::runtime {

// In rising order. `off` is only a minimum (LogConfig::level): it drops every event.
enum class LogLevel : std::uint8_t { debug, info, warning, error, off };

std::string_view to_string(LogLevel level) noexcept;  // "debug", "info", "warning", "error", "off"

// A field beyond the four every event may have (LogEvent): "worker", "restarts", "address", ...
// The key is a short snake_case word.
struct LogField {
  std::string_view key{};
  std::string_view value{};
};

// One event. The views are valid during the sink's call only: a sink that keeps an event for
// later (a queue, a background writer) copies what it keeps.
struct LogEvent {
  LogLevel level = LogLevel::info;
  std::string_view name{};     // stable, snake_case: "connection_refused", "node_down", "actor_failed"
  std::string_view message{};  // for people: one sentence, which may repeat the fields below
  // Structured fields; empty where the event has none (a sink omits them).
  std::string_view node{};             // the node that logs it (transport events)
  std::string_view peer{};             // the other node, or the address of a peer not yet authenticated
  std::string_view actor{};            // the actor's type, readable (the behaviour's or class's name)
  std::string_view reason{};           // why, in plain words
  std::span<const LogField> fields{};  // the event's own (README.md, "Logs")
  // When it happened (UTC wall clock): set by Logger::log.
  std::chrono::system_clock::time_point time{};
};

// Receives every event at or above the minimum level, on the thread that logged it (a worker,
// the watchdog, a node's transport thread, ...), possibly from several threads at once: it must
// be thread-safe. Keep it short and non-blocking, as an actor's handler; an exception it throws
// is swallowed.
using LogSink = std::function<void(const LogEvent&)>;

struct LogConfig {
  LogSink sink{};                   // unset: log_to_stderr
  LogLevel level = LogLevel::info;  // events below it are dropped
};

// The default sink's line, without its newline: logfmt, key=value pairs separated by spaces, in
// this order, each field only if the event has it:
//   time=2025-01-31T09:15:02.123456Z level=warning event=node_down node=a peer=b reason="no heartbeat"
//   [worker=2 ...] msg="node 'b' is down: no heartbeat"
// time is UTC with microseconds. A value is written bare unless it is empty or holds a space,
// '=', '"' or a control character; then it is quoted, with \" \\ \n \r \t and \xHH escapes.
// Keys are written as given, any byte but [A-Za-z0-9_.-] replaced by '_'.
std::string format_log_line(const LogEvent& event);

// The default sink: format_log_line and a newline, written to stderr (fd 2) with one write(2),
// so lines from several threads never interleave. A sink of the user's may call it too (to keep
// the default lines and do more).
void log_to_stderr(const LogEvent& event) noexcept;

// A sink and a minimum level. Copies share the sink (the System's scheduler and nodes hold
// copies of the System's logger); it lives as long as the last copy.
class Logger {
 public:
  Logger() noexcept = default;  // info and above, to log_to_stderr
  explicit Logger(LogConfig config);

  // Whether an event of `level` would reach the sink: ask before building a message.
  bool enabled(LogLevel level) const noexcept { return level >= level_ && level != LogLevel::off; }
  LogLevel level() const noexcept { return level_; }
  // Stamps the event's time and hands it to the sink, if `enabled(event.level)`. Any thread.
  void log(LogEvent event) const noexcept;

 private:
  std::shared_ptr<const LogSink> sink_;  // null: log_to_stderr
  LogLevel level_ = LogLevel::info;
};

}  // namespace troupe::runtime
