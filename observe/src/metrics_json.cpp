// The snapshot as JSON, field for field (docs/observe.md gives the shape): what the dashboard
// polls. Durations are in seconds, named so (busy_seconds); counts by a kind or a reason are
// objects keyed by its name.
#include <troupe/observe.hpp>

#include <nlohmann/json.hpp>

#include <chrono>

namespace troupe::observe {

namespace {

using nlohmann::json;

double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

json worker(const WorkerMetrics& w) {
  return {{"index", w.index},
          {"compensating", w.compensating},
          {"busy_seconds", seconds(w.busy)},
          {"parked_seconds", seconds(w.parked)},
          {"spinning_seconds", seconds(w.spinning)},
          {"turns", w.turns},
          {"steals", w.steals},
          {"injections", w.injections},
          {"spins", w.spins},
          {"spins_found_work", w.spins_found_work},
          {"parks", w.parks}};
}

json actor_type(const ActorTypeMetrics& t) {
  json exits = json::object();
  for (std::size_t kind = 0; kind < exit_reason_kinds; ++kind) {
    exits[std::string(exit_kind_name(static_cast<ExitReason::Kind>(kind)))] = t.exits[kind];
  }
  return {
      {"type", t.type},
      {"live", t.live},
      {"spawned", t.spawned},
      {"messages", t.messages},
      {"restarts", t.restarts},
      {"exits", std::move(exits)},
      {"handling_time",
       {{"counts", t.handling_time.counts}, {"count", t.handling_time.count}, {"sum_seconds", t.handling_time.sum}}}};
}

json mailbox(const MailboxDepth& m) {
  return {{"type", m.type},
          {"actor", m.actor},
          {"depth", m.depth},
          {"at_least", m.at_least},
          {"age_seconds", seconds(m.age)}};
}

json peer(const PeerMetrics& p) {
  return {{"node", p.node},
          {"address", p.address},
          {"state", p.state},
          {"envelopes_in", p.envelopes_in},
          {"envelopes_out", p.envelopes_out},
          {"bytes_in", p.bytes_in},
          {"bytes_out", p.bytes_out},
          {"credit", p.credit},
          {"outbound_envelopes", p.outbound_envelopes},
          {"outbound_bytes", p.outbound_bytes},
          {"rtt_seconds", p.rtt_seconds},
          {"downs", p.downs}};
}

json node(const NodeMetrics& n) {
  json peers = json::array();
  for (const PeerMetrics& p : n.peers) peers.push_back(peer(p));
  json refusals = json::object();
  for (const auto& [cause, count] : n.refusals) refusals[cause] = count;
  return {{"name", n.name}, {"peers", std::move(peers)}, {"refusals", std::move(refusals)}};
}

}  // namespace

std::string metrics_json(const MetricsSnapshot& snapshot) {
  json out;
  out["taken"] = std::chrono::duration<double>(snapshot.taken.time_since_epoch()).count();
  out["uptime_seconds"] = seconds(snapshot.uptime);
  out["workers"] = json::array();
  for (const WorkerMetrics& w : snapshot.workers) out["workers"].push_back(worker(w));
  out["handling_time_buckets"] = handling_time_buckets;
  out["actor_types"] = json::array();
  for (const ActorTypeMetrics& t : snapshot.actor_types) out["actor_types"].push_back(actor_type(t));
  out["mailboxes"] = json::array();
  for (const MailboxDepth& m : snapshot.mailboxes) out["mailboxes"].push_back(mailbox(m));
  json dead_letters = json::object();
  for (std::size_t reason = 0; reason < dead_letter_reasons; ++reason) {
    dead_letters[std::string(dead_letter_reason_name(reason))] = snapshot.dead_letters[reason];
  }
  out["dead_letters"] = std::move(dead_letters);
  out["live_actors"] = snapshot.live_actors;
  out["timers_pending"] = snapshot.timers_pending;
  out["blocking_threads"] = snapshot.blocking_threads;
  out["stuck_turns"] = snapshot.stuck_turns;
  out["compensating_started"] = snapshot.compensating_started;
  out["nodes"] = json::array();
  for (const NodeMetrics& n : snapshot.nodes) out["nodes"].push_back(node(n));
  // Replaces what is not UTF-8 (an actor type or node name is any bytes) rather than throw.
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace troupe::observe
