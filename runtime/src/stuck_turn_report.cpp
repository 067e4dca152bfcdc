#include "stuck_turn_report.hpp"

#include <charconv>
#include <chrono>
#include <string>

namespace troupe::runtime::detail {
namespace {

// `value` in `buffer`, as decimal digits.
std::string_view digits(char (&buffer)[24], std::uint64_t value) noexcept {
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return error == std::errc{} ? std::string_view(buffer, static_cast<std::size_t>(end - buffer)) : std::string_view();
}

void log_stuck_turn(const Logger& logger, const StuckTurn& turn) noexcept {
  const LogLevel level = turn.ended ? LogLevel::info : LogLevel::warning;
  if (!logger.enabled(level)) return;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(turn.duration).count();
  char worker_digits[24];
  char ms_digits[24];
  const LogField fields[] = {{"worker", digits(worker_digits, turn.worker)},
                             {"duration_ms", digits(ms_digits, static_cast<std::uint64_t>(ms < 0 ? 0 : ms))}};
  try {
    std::string message = turn.actor.empty() ? std::string("a turn") : "a turn of actor " + std::string(turn.actor);
    message += turn.ended ? " held worker " : " has held worker ";
    message += fields[0].value;
    message += " for ";
    message += fields[1].value;
    message +=
        turn.ended ? " ms (other actors ran meanwhile)" : " ms so far; the actors queued behind it go to other workers";
    logger.log({.level = level,
                .name = turn.ended ? "stuck_turn_ended" : "stuck_turn",
                .message = message,
                .actor = turn.actor,
                .fields = fields});
  } catch (...) {  // no memory for the message: the event is lost, not the worker
  }
}

}  // namespace

void report_stuck_turn(const SchedulerConfig& config, const StuckTurn& turn) noexcept {
  if (config.on_stuck_turn) {
    try {
      config.on_stuck_turn(turn);
    } catch (...) {  // a throwing hook must not take the pool down
    }
  }
  log_stuck_turn(config.logger, turn);
}

}  // namespace troupe::runtime::detail
