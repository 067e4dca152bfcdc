#include <troupe/error.hpp>
#include <troupe/exit_reason.hpp>

namespace troupe {

std::string_view to_string(Errc code) noexcept {
  switch (code) {
    case Errc::timeout:
      return "timeout";
    case Errc::dead_actor:
      return "dead_actor";
    case Errc::unexpected_message:
      return "unexpected_message";
    case Errc::actor_failed:
      return "actor_failed";
    case Errc::unexpected_reply:
      return "unexpected_reply";
    case Errc::system_shutdown:
      return "system_shutdown";
    case Errc::name_taken:
      return "name_taken";
    case Errc::mailbox_full:
      return "mailbox_full";
    case Errc::child_exists:
      return "child_exists";
    case Errc::no_child:
      return "no_child";
    case Errc::child_running:
      return "child_running";
    case Errc::not_serializable:
      return "not_serializable";
    case Errc::no_such_name:
      return "no_such_name";
    case Errc::node_unreachable:
      return "node_unreachable";
    case Errc::node_down:
      return "node_down";
    case Errc::no_such_type:
      return "no_such_type";
    case Errc::bad_arguments:
      return "bad_arguments";
    case Errc::unknown_code:
      return "unknown_code";
    case Errc::message_too_large:
      return "message_too_large";
    case Errc::application:
      return "application";
    case Errc::unknown_category:
      return "unknown_category";
    case Errc::interface_mismatch:
      return "interface_mismatch";
  }
  return "unknown";
}

std::string Error::message() const {
  std::string text;
  if (code == Errc::application && category_ != nullptr) {
    text = category_->name();
    text += '.';
    const std::string_view name = category_->code_name(value_);
    if (name.empty()) {
      text += std::to_string(value_);
    } else {
      text += name;
    }
  } else {
    text = to_string(code);
  }
  if (!what.empty()) {
    text += ": ";
    text += what;
  }
  return text;
}

std::string_view exit_kind_name(ExitReason::Kind kind) noexcept {
  switch (kind) {
    case ExitReason::Kind::normal:
      return "normal";
    case ExitReason::Kind::shutdown:
      return "shutdown";
    case ExitReason::Kind::kill:
      return "kill";
    case ExitReason::Kind::error:
      return "error";
    case ExitReason::Kind::noproc:
      return "noproc";
    case ExitReason::Kind::node_down:
      return "node_down";
  }
  return "unknown";
}

std::string ExitReason::to_string() const {
  std::string text(exit_kind_name(kind));
  if (kind == Kind::error || kind == Kind::node_down) text += ": " + message;
  return text;
}

}  // namespace troupe
