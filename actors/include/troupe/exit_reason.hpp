// Why an actor stopped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace troupe {

struct ExitReason {
  enum class Kind : std::uint8_t {
    normal,    // the actor quit of its own accord
    shutdown,  // the system stopped it
    kill,      // killed; cannot be trapped
    error,     // failed: an escaped exception, or a quit with an error; `message` says why
    noproc,    // the actor was already gone (a link to a stopped actor, a monitor of an empty handle)
    node_down, // the actor's node became unreachable (transport); `message` names the node
  };

  Kind kind = Kind::normal;
  std::string message;

  static ExitReason normal() { return {}; }
  static ExitReason shutdown() { return {Kind::shutdown, {}}; }
  static ExitReason kill() { return {Kind::kill, {}}; }
  static ExitReason error(std::string why) { return {Kind::error, std::move(why)}; }
  static ExitReason noproc() { return {Kind::noproc, {}}; }
  static ExitReason node_down(std::string node) { return {Kind::node_down, std::move(node)}; }

  bool is_normal() const noexcept { return kind == Kind::normal; }
  std::string to_string() const;  // "normal", "shutdown", "kill", "error: <message>", "noproc",
                               // "node_down: <node>"
};

// The kind's name: "normal", "shutdown", "kill", "error", "noproc", "node_down" (what to_string
// starts with; the metrics' `reason` label).
std::string_view exit_kind_name(ExitReason::Kind kind) noexcept;

}  // namespace troupe
