// What troupe exposes to Prometheus (docs/observe.md lists every metric): the snapshot's fields
// as metric families, named after Prometheus's conventions (troupe_ prefix, base units, _total
// for counters).
#include <troupe/observe.hpp>

#include "exposition.hpp"

#include <chrono>
#include <string>

namespace troupe::observe {

namespace {

using detail::Exposition;

double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

void workers(Exposition& out, const MetricsSnapshot& snapshot) {
  if (snapshot.workers.empty()) return;
  std::vector<std::string> index;
  for (const WorkerMetrics& w : snapshot.workers) index.push_back(std::to_string(w.index));
  // One family per field, each over every worker: a family's samples must stand together.
  auto each = [&](std::string_view name, std::string_view help, auto value) {
    out.family(name, "counter", help);
    for (std::size_t i = 0; i < snapshot.workers.size(); ++i) {
      out.sample({{"worker", index[i]}}, value(snapshot.workers[i]));
    }
  };
  each("troupe_worker_busy_seconds_total",
       "Time the worker thread spent running actors and looking for the next one between turns.",
       [](const WorkerMetrics& w) { return seconds(w.busy); });
  each("troupe_worker_parked_seconds_total", "Time the worker thread slept, waiting for work.",
       [](const WorkerMetrics& w) { return seconds(w.parked); });
  each("troupe_worker_spinning_seconds_total", "Time the worker thread spent spinning for work before it parked.",
       [](const WorkerMetrics& w) { return seconds(w.spinning); });
  each("troupe_worker_turns_total", "Actor turns the worker ran (a turn handles up to the actor's budget of messages).",
       [](const WorkerMetrics& w) { return w.turns; });
  each("troupe_worker_steals_total", "Actors the worker took from another worker's queue.",
       [](const WorkerMetrics& w) { return w.steals; });
  each("troupe_worker_injections_total", "Actors the worker took from the pool's injection queue.",
       [](const WorkerMetrics& w) { return w.injections; });
  each("troupe_worker_spins_total", "Times the worker spun for work before parking.",
       [](const WorkerMetrics& w) { return w.spins; });
  each("troupe_worker_spins_found_work_total", "Spins that found an actor to run.",
       [](const WorkerMetrics& w) { return w.spins_found_work; });
  each("troupe_worker_parks_total", "Times the worker thread went to sleep.",
       [](const WorkerMetrics& w) { return w.parks; });
}

void handling_time(Exposition& out, const MetricsSnapshot& snapshot) {
  // The bounds' text once, shared by every type.
  std::vector<std::string> bounds;
  for (const double bound : handling_time_buckets) {
    std::string text;
    detail::append_number(text, bound);
    bounds.push_back(std::move(text));
  }
  out.family(
      "troupe_actor_handling_seconds", "histogram",
      "How long a handler of the type took, sampled: the messages of about one turn in 1024 per worker are timed.");
  for (const ActorTypeMetrics& t : snapshot.actor_types) {
    // The snapshot counts each bucket on its own; Prometheus's buckets are cumulative, the last
    // (+Inf) equal to _count.
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < bounds.size(); ++i) {
      cumulative += t.handling_time.counts[i];
      out.sample({{"type", t.type}, {"le", bounds[i]}}, cumulative, "_bucket");
    }
    cumulative += t.handling_time.counts.back();
    out.sample({{"type", t.type}, {"le", "+Inf"}}, cumulative, "_bucket");
    out.sample({{"type", t.type}}, t.handling_time.sum, "_sum");
    out.sample({{"type", t.type}}, cumulative, "_count");
  }
}

void actor_types(Exposition& out, const MetricsSnapshot& snapshot) {
  auto each = [&](std::string_view name, std::string_view type, std::string_view help, auto value) {
    out.family(name, type, help);
    for (const ActorTypeMetrics& t : snapshot.actor_types) out.sample({{"type", t.type}}, value(t));
  };
  each("troupe_actors_live", "gauge", "Actors of the type spawned and not yet stopped.",
       [](const ActorTypeMetrics& t) { return t.live; });
  each("troupe_actor_spawned_total", "counter", "Actors of the type spawned.",
       [](const ActorTypeMetrics& t) { return t.spawned; });
  each("troupe_actor_messages_total", "counter",
       "Messages actors of the type handled (user messages, responses and signals).",
       [](const ActorTypeMetrics& t) { return t.messages; });
  each("troupe_actor_restarts_total", "counter", "Actors of the type restarted by a supervisor.",
       [](const ActorTypeMetrics& t) { return t.restarts; });
  out.family("troupe_actor_exits_total", "counter",
             "Actors of the type that stopped, by the kind of their exit reason.");
  for (const ActorTypeMetrics& t : snapshot.actor_types) {
    for (std::size_t kind = 0; kind < exit_reason_kinds; ++kind) {
      out.sample({{"type", t.type}, {"reason", exit_kind_name(static_cast<ExitReason::Kind>(kind))}}, t.exits[kind]);
    }
  }
  handling_time(out, snapshot);

  out.family("troupe_mailbox_depth", "gauge",
             "Messages waiting in the deepest mailboxes seen lately (at most 10 actors; an unbounded mailbox "
             "is counted up to 4096).");
  for (const MailboxDepth& m : snapshot.mailboxes) {
    out.sample({{"type", m.type}, {"actor", std::to_string(m.actor)}}, m.depth);
  }
}

void system_wide(Exposition& out, const MetricsSnapshot& snapshot) {
  out.family("troupe_dead_letters_total", "counter", "Messages that reached no actor, by reason.");
  for (std::size_t reason = 0; reason < dead_letter_reasons; ++reason) {
    out.sample({{"reason", dead_letter_reason_name(reason)}}, snapshot.dead_letters[reason]);
  }
  out.family("troupe_timers_pending", "gauge", "One-shot and periodic timers not yet fired or cancelled.");
  out.sample({}, snapshot.timers_pending);
  out.family("troupe_blocking_threads", "gauge", "Threads of blocking actors.");
  out.sample({}, snapshot.blocking_threads);
  out.family("troupe_stuck_turns_total", "counter",
             "Turns the safety net found stuck (longer than Config::stuck_turn).");
  out.sample({}, snapshot.stuck_turns);
  out.family("troupe_compensating_workers_started_total", "counter",
             "Worker threads started to stand in for workers held by stuck turns.");
  out.sample({}, snapshot.compensating_started);
  out.family("troupe_uptime_seconds", "gauge", "Time since the actor system started.");
  out.sample({}, seconds(snapshot.uptime));
}

void peers(Exposition& out, const MetricsSnapshot& snapshot) {
  auto each = [&](std::string_view name, std::string_view type, std::string_view help, auto write) {
    out.family(name, type, help);
    for (const NodeMetrics& node : snapshot.nodes) {
      for (const PeerMetrics& peer : node.peers) write(node.name, peer);
    }
  };
  each("troupe_peer_envelopes_total", "counter", "Envelopes (messages, responses, signals) to and from the peer.",
       [&](const std::string& node, const PeerMetrics& p) {
         out.sample({{"node", node}, {"peer", p.node}, {"direction", "in"}}, p.envelopes_in);
         out.sample({{"node", node}, {"peer", p.node}, {"direction", "out"}}, p.envelopes_out);
       });
  each("troupe_peer_bytes_total", "counter", "Encoded frames' bytes read from and written to the peer's connection.",
       [&](const std::string& node, const PeerMetrics& p) {
         out.sample({{"node", node}, {"peer", p.node}, {"direction", "in"}}, p.bytes_in);
         out.sample({{"node", node}, {"peer", p.node}, {"direction", "out"}}, p.bytes_out);
       });
  each("troupe_peer_credit_bytes", "gauge", "Bytes the peer lets this node send before it acknowledges.",
       [&](const std::string& node, const PeerMetrics& p) {
         out.sample({{"node", node}, {"peer", p.node}}, p.credit);
       });
  each("troupe_peer_outbound_envelopes", "gauge", "Envelopes waiting to be written to the peer.",
       [&](const std::string& node, const PeerMetrics& p) {
         out.sample({{"node", node}, {"peer", p.node}}, p.outbound_envelopes);
       });
  each("troupe_peer_outbound_bytes", "gauge", "Encoded bytes of the envelopes waiting for the peer.",
       [&](const std::string& node, const PeerMetrics& p) {
         out.sample({{"node", node}, {"peer", p.node}}, p.outbound_bytes);
       });
  each("troupe_peer_up", "gauge",
       "1 while the connection to the peer is up, else 0; the state label says which (connecting, up, down, "
       "declared_down).",
       [&](const std::string& node, const PeerMetrics& p) {
         out.sample({{"node", node}, {"peer", p.node}, {"state", p.state}}, p.state == "up" ? 1.0 : 0.0);
       });
  each("troupe_peer_rtt_seconds", "gauge", "Round trip of the last heartbeat to the peer (absent before the first).",
       [&](const std::string& node, const PeerMetrics& p) {
         if (p.rtt_seconds > 0) out.sample({{"node", node}, {"peer", p.node}}, p.rtt_seconds);
       });
  each("troupe_peer_downs_total", "counter", "Times the peer was declared down.",
       [&](const std::string& node, const PeerMetrics& p) {
         out.sample({{"node", node}, {"peer", p.node}}, p.downs);
       });
  out.family("troupe_handshakes_refused_total", "counter",
             "Connections this node refused before authentication, by cause.");
  for (const NodeMetrics& node : snapshot.nodes) {
    for (const auto& [cause, count] : node.refusals) out.sample({{"node", node.name}, {"cause", cause}}, count);
  }
}

}  // namespace

std::string prometheus_text(const MetricsSnapshot& snapshot) {
  Exposition out;
  workers(out, snapshot);
  actor_types(out, snapshot);
  system_wide(out, snapshot);
  peers(out, snapshot);
  return out.take();
}

}  // namespace troupe::observe
