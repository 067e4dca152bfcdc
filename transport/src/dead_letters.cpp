#include "dead_letters.hpp"

#include "node_core.hpp"

#include <troupe/message.hpp>

namespace troupe::transport::detail {

void DeadLetters::drop(Peer& p, const OutEnvelope& e, const Error& error) {
  NodeCounters::add(node_.counters().dead);
  p.outbox.release(e);  // it leaves the outbound queue unsent
  if (e.kind != wire::Kind::REQUEST || e.sender == 0) return;
  node_.requests().untrack(p, e.sender, e.request_id);
  if (runtime::ActorCore* requester = node_.exports().exported(e.sender)) {
    troupe::detail::send_response_error(requester, e.request_id, error);
  }
}

void DeadLetters::drop_unsendable(Peer& p, const OutEnvelope& e) {
  const std::string why = std::string(e.type_name) + " of " + std::to_string(e.payload.size()) +
                          " bytes is larger than node '" + p.name + "' accepts (" +
                          std::to_string(p.outbox.max_frame_bytes()) + "-byte frames)";
  if (node_.log().enabled(LogLevel::warning)) {
    const LogField fields[] = {{"type", e.type_name}};
    node_.log().log({.level = LogLevel::warning,
                     .name = "message_dropped",
                     .message = "dropped a message: " + why,
                     .peer = p.name,
                     .reason = why,
                     .fields = fields});
  }
  drop(p, e, Error{Errc::message_too_large, why});
}

void DeadLetters::unreachable(Peer& p, const std::string& why) {
  if (p.seed) node_.seeds().failed(p, Error{Errc::node_unreachable, why});
  node_.lookups().fail(p, why);
  // Requests that never left get their answer now rather than at their timeout.
  for (const OutEnvelope& e : p.outbox.clear()) drop(p, e, Error{Errc::node_unreachable, why});
}

}  // namespace troupe::transport::detail
