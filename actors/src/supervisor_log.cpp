// Supervisor, part 5: what it logs (README.md, "Logs"). A restart is news (info); giving up is an
// error that the supervisor's parent is about to see as its child's failure.
#include "supervisor_actor.hpp"

#include <troupe/system.hpp>

#include <chrono>
#include <string>

namespace troupe::detail {

void SupervisorActor::log_restart(const Child& child, const std::string& failed,
                                  const ExitReason& reason) const noexcept {
  const Logger& logger = self_.system().logger();
  if (!logger.enabled(LogLevel::info)) return;
  try {
    const std::string why = reason.to_string();
    const std::string restarts = std::to_string(child.restarts);
    const LogField fields[] = {{"child", child.spec.id}, {"failed", failed}, {"restarts", restarts}};
    std::string message = "restarted child '" + child.spec.id + "' (restart " + restarts + ")";
    message += failed == child.spec.id ? " after it stopped: " : " after child '" + failed + "' stopped: ";
    message += why;
    logger.log({.level = LogLevel::info,
                .name = "supervisor_restart",
                .message = message,
                .actor = child.actor,
                .reason = why,
                .fields = fields});
  } catch (...) {  // no memory for the message: the event is lost, not the restart
  }
}

void SupervisorActor::escalate(const Child& child, ExitReason reason) {
  const Logger& logger = self_.system().logger();
  if (logger.enabled(LogLevel::error)) {
    try {
      const std::string max_restarts = std::to_string(spec_.max_restarts);
      const std::string period_ms =
          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(spec_.period).count());
      const LogField fields[] = {{"child", child.spec.id}, {"max_restarts", max_restarts}, {"period_ms", period_ms}};
      logger.log({.level = LogLevel::error,
                  .name = "escalation",
                  .message = "a supervisor gives up after child '" + child.spec.id + "': " + reason.message +
                             "; it stops its children and exits with that error",
                  .actor = child.actor,
                  .reason = reason.message,
                  .fields = fields});
    } catch (...) {  // no memory for the message: the event is lost, not the escalation
    }
  }
  shutdown(std::move(reason));
}

}  // namespace troupe::detail
