// The Prometheus text rendering of a hand-made snapshot: exact lines, label escaping, the
// histogram's cumulative buckets, and families left out when they have no sample.
#include <troupe/observe.hpp>
#include <troupe/system.hpp>  // DeadLetter

#include <doctest/doctest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool has_line(const std::vector<std::string>& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

// The lines of one family: its HELP and TYPE lines and every sample line of that name.
std::string family_of(const std::string& text, const std::string& name) {
  std::string out;
  for (const std::string& line : lines_of(text)) {
    const bool comment = line.rfind("# HELP " + name + " ", 0) == 0 || line.rfind("# TYPE " + name + " ", 0) == 0;
    const bool sample = line.rfind(name, 0) == 0 && (line[name.size()] == '{' || line[name.size()] == ' ' ||
                                                     line.compare(name.size(), 1, "_") == 0);
    if (comment || sample) out += line + "\n";
  }
  return out;
}

troupe::MetricsSnapshot sample_snapshot() {
  troupe::MetricsSnapshot s;
  s.uptime = 2500ms;
  troupe::WorkerMetrics w;
  w.index = 1;
  w.busy = 1500ms;
  w.parked = 250ms;
  w.spinning = 1ms;
  w.turns = 42;
  w.steals = 3;
  w.injections = 5;
  w.spins = 7;
  w.spins_found_work = 2;
  w.parks = 9;
  s.workers.push_back(w);

  troupe::ActorTypeMetrics t;
  t.type = "ns::Echo<\"q\">\\x\ny";  // a quote, a backslash and a line feed to escape
  t.live = 4;
  t.spawned = 6;
  t.messages = 1000;
  t.restarts = 1;
  t.exits[static_cast<std::size_t>(troupe::ExitReason::Kind::normal)] = 2;
  t.handling_time.counts[0] = 5;   // <= 1 µs
  t.handling_time.counts[2] = 3;   // (4 µs, 16 µs]
  t.handling_time.counts[11] = 1;  // (1.05 s, 4.19 s]
  t.handling_time.counts[12] = 2;  // above every bound
  t.handling_time.count = 11;
  t.handling_time.sum = 12.5;
  s.actor_types.push_back(t);

  s.mailboxes.push_back({.type = "Sink", .actor = 77, .depth = 4096, .at_least = true, .age = 1s});
  s.dead_letters[static_cast<std::size_t>(troupe::DeadLetter::Reason::mailbox_full)] = 8;
  s.timers_pending = 3;
  s.blocking_threads = 1;
  s.stuck_turns = 2;
  return s;
}

}  // namespace

TEST_CASE("prometheus_text: worker counters in seconds and counts, one family each, labelled by worker") {
  const auto lines = lines_of(troupe::observe::prometheus_text(sample_snapshot()));
  CHECK(has_line(lines, "# TYPE troupe_worker_busy_seconds_total counter"));
  CHECK(has_line(lines, "troupe_worker_busy_seconds_total{worker=\"1\"} 1.5"));
  CHECK(has_line(lines, "troupe_worker_parked_seconds_total{worker=\"1\"} 0.25"));
  CHECK(has_line(lines, "troupe_worker_spinning_seconds_total{worker=\"1\"} 0.001"));
  CHECK(has_line(lines, "troupe_worker_turns_total{worker=\"1\"} 42"));
  CHECK(has_line(lines, "troupe_worker_steals_total{worker=\"1\"} 3"));
  CHECK(has_line(lines, "troupe_worker_injections_total{worker=\"1\"} 5"));
  CHECK(has_line(lines, "troupe_worker_spins_total{worker=\"1\"} 7"));
  CHECK(has_line(lines, "troupe_worker_spins_found_work_total{worker=\"1\"} 2"));
  CHECK(has_line(lines, "troupe_worker_parks_total{worker=\"1\"} 9"));
}

TEST_CASE("prometheus_text: a label value's quote, backslash and line feed are escaped") {
  const auto lines = lines_of(troupe::observe::prometheus_text(sample_snapshot()));
  const std::string type = R"(type="ns::Echo<\"q\">\\x\ny")";
  CHECK(has_line(lines, "troupe_actors_live{" + type + "} 4"));
  CHECK(has_line(lines, "troupe_actor_spawned_total{" + type + "} 6"));
  CHECK(has_line(lines, "troupe_actor_messages_total{" + type + "} 1000"));
  CHECK(has_line(lines, "troupe_actor_restarts_total{" + type + "} 1"));
  CHECK(has_line(lines, "troupe_actor_exits_total{" + type + ",reason=\"normal\"} 2"));
  CHECK(has_line(lines, "troupe_actor_exits_total{" + type + ",reason=\"error\"} 0"));
}

TEST_CASE("prometheus_text: the handling-time histogram has cumulative buckets, +Inf equal to _count") {
  const std::string text = troupe::observe::prometheus_text(sample_snapshot());
  const std::string type = R"(type="ns::Echo<\"q\">\\x\ny")";
  const std::string expected =
      "# HELP troupe_actor_handling_seconds How long a handler of the type took, sampled: the messages of about one "
      "turn in 1024 per worker are timed.\n"
      "# TYPE troupe_actor_handling_seconds histogram\n"
      "troupe_actor_handling_seconds_bucket{" +
      type +
      ",le=\"1e-06\"} 5\n"
      "troupe_actor_handling_seconds_bucket{" +
      type +
      ",le=\"4e-06\"} 5\n"
      "troupe_actor_handling_seconds_bucket{" +
      type +
      ",le=\"1.6e-05\"} 8\n"
      "troupe_actor_handling_seconds_bucket{" +
      type +
      ",le=\"6.4e-05\"} 8\n"
      "troupe_actor_handling_seconds_bucket{" +
      type +
      ",le=\"0.000256\"} 8\n"
      "troupe_actor_handling_seconds_bucket{" +
      type +
      ",le=\"0.001024\"} 8\n"
      "troupe_actor_handling_seconds_bucket{" +
      type +
      ",le=\"0.004096\"} 8\n"
      "troupe_actor_handling_seconds_bucket{" +
      type +
      ",le=\"0.016384\"} 8\n"
      "troupe_actor_handling_seconds_bucket{" +
      type +
      ",le=\"0.065536\"} 8\n"
      "troupe_actor_handling_seconds_bucket{" +
      type +
      ",le=\"0.262144\"} 8\n"
      "troupe_actor_handling_seconds_bucket{" +
      type +
      ",le=\"1.048576\"} 8\n"
      "troupe_actor_handling_seconds_bucket{" +
      type +
      ",le=\"4.194304\"} 9\n"
      "troupe_actor_handling_seconds_bucket{" +
      type +
      ",le=\"+Inf\"} 11\n"
      "troupe_actor_handling_seconds_sum{" +
      type +
      "} 12.5\n"
      "troupe_actor_handling_seconds_count{" +
      type + "} 11\n";
  CHECK(family_of(text, "troupe_actor_handling_seconds") == expected);
}

TEST_CASE("prometheus_text: system-wide gauges and counters, dead letters by every reason") {
  const auto lines = lines_of(troupe::observe::prometheus_text(sample_snapshot()));
  CHECK(has_line(lines, "troupe_mailbox_depth{type=\"Sink\",actor=\"77\"} 4096"));
  CHECK(has_line(lines, "troupe_dead_letters_total{reason=\"mailbox_full\"} 8"));
  CHECK(has_line(lines, "troupe_dead_letters_total{reason=\"receiver_stopped\"} 0"));
  CHECK(has_line(lines, "# TYPE troupe_timers_pending gauge"));
  CHECK(has_line(lines, "troupe_timers_pending 3"));
  CHECK(has_line(lines, "troupe_blocking_threads 1"));
  CHECK(has_line(lines, "# TYPE troupe_stuck_turns_total counter"));
  CHECK(has_line(lines, "troupe_stuck_turns_total 2"));
  CHECK(has_line(lines, "troupe_uptime_seconds 2.5"));
}

TEST_CASE("prometheus_text: a node's peers, by direction and state; no peer family without peers") {
  troupe::MetricsSnapshot s = sample_snapshot();
  CHECK(troupe::observe::prometheus_text(s).find("troupe_peer_") == std::string::npos);
  CHECK(troupe::observe::prometheus_text(s).find("troupe_handshakes_refused_total") == std::string::npos);

  troupe::NodeMetrics node;
  node.name = "a";
  troupe::PeerMetrics up{.node = "b", .address = "127.0.0.1:7001", .state = "up"};
  up.envelopes_in = 10;
  up.envelopes_out = 20;
  up.bytes_in = 1000;
  up.bytes_out = 2000;
  up.credit = 4096;
  up.outbound_envelopes = 2;
  up.outbound_bytes = 128;
  up.rtt_seconds = 0.00025;
  up.downs = 1;
  node.peers.push_back(up);
  node.peers.push_back({.node = "c", .address = "127.0.0.1:7002", .state = "connecting"});  // no RTT yet
  node.refusals.emplace_back("bad_hmac", 3);
  s.nodes.push_back(node);
  const auto lines = lines_of(troupe::observe::prometheus_text(s));
  CHECK(has_line(lines, "troupe_peer_envelopes_total{node=\"a\",peer=\"b\",direction=\"in\"} 10"));
  CHECK(has_line(lines, "troupe_peer_envelopes_total{node=\"a\",peer=\"b\",direction=\"out\"} 20"));
  CHECK(has_line(lines, "troupe_peer_bytes_total{node=\"a\",peer=\"b\",direction=\"in\"} 1000"));
  CHECK(has_line(lines, "troupe_peer_bytes_total{node=\"a\",peer=\"b\",direction=\"out\"} 2000"));
  CHECK(has_line(lines, "troupe_peer_credit_bytes{node=\"a\",peer=\"b\"} 4096"));
  CHECK(has_line(lines, "troupe_peer_outbound_envelopes{node=\"a\",peer=\"b\"} 2"));
  CHECK(has_line(lines, "troupe_peer_outbound_bytes{node=\"a\",peer=\"b\"} 128"));
  CHECK(has_line(lines, "troupe_peer_up{node=\"a\",peer=\"b\",state=\"up\"} 1"));
  CHECK(has_line(lines, "troupe_peer_up{node=\"a\",peer=\"c\",state=\"connecting\"} 0"));
  CHECK(has_line(lines, "troupe_peer_rtt_seconds{node=\"a\",peer=\"b\"} 0.00025"));
  CHECK(std::none_of(lines.begin(), lines.end(), [](const std::string& l) {
    return l.rfind("troupe_peer_rtt_seconds{node=\"a\",peer=\"c\"", 0) == 0;
  }));
  CHECK(has_line(lines, "troupe_peer_downs_total{node=\"a\",peer=\"b\"} 1"));
  CHECK(has_line(lines, "troupe_handshakes_refused_total{node=\"a\",cause=\"bad_hmac\"} 3"));
}

TEST_CASE("prometheus_text: every family is announced once, HELP then TYPE, before its samples") {
  const auto lines = lines_of(troupe::observe::prometheus_text(sample_snapshot()));
  std::vector<std::string> announced;
  std::string current;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.rfind("# HELP ", 0) == 0) {
      current = line.substr(7, line.find(' ', 7) - 7);
      CHECK_MESSAGE(std::find(announced.begin(), announced.end(), current) == announced.end(), current);
      announced.push_back(current);
      REQUIRE(i + 1 < lines.size());
      CHECK(lines[i + 1].rfind("# TYPE " + current + " ", 0) == 0);
    } else if (line.rfind("# TYPE ", 0) != 0) {
      REQUIRE_FALSE(current.empty());
      CHECK_MESSAGE(line.rfind(current, 0) == 0, line);  // a sample of the family announced last
      CHECK(line.rfind("troupe_", 0) == 0);
    }
  }
  CHECK(announced.size() >= 20);
}
