// The JSON rendering of a hand-made snapshot: the shape docs/observe.md gives, field for field.
#include <troupe/observe.hpp>
#include <troupe/system.hpp>  // DeadLetter

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

namespace {

using namespace std::chrono_literals;
using nlohmann::json;

}  // namespace

TEST_CASE("metrics_json: every field of the snapshot, durations in seconds, kinds and reasons by name") {
  troupe::MetricsSnapshot s;
  s.taken = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  s.uptime = 1500ms;
  troupe::WorkerMetrics w;
  w.index = 2;
  w.compensating = true;
  w.busy = 250ms;
  w.parked = 750ms;
  w.turns = 10;
  s.workers.push_back(w);
  troupe::ActorTypeMetrics t;
  t.type = "Echo \xff";  // not UTF-8: replaced, not thrown
  t.live = 3;
  t.messages = 99;
  t.exits[static_cast<std::size_t>(troupe::ExitReason::Kind::error)] = 4;
  t.handling_time.counts[1] = 6;
  t.handling_time.count = 6;
  t.handling_time.sum = 0.5;
  s.actor_types.push_back(t);
  s.mailboxes.push_back({.type = "Sink", .actor = 5, .depth = 12, .at_least = false, .age = 2s});
  s.dead_letters[static_cast<std::size_t>(troupe::DeadLetter::Reason::unhandled)] = 7;
  s.live_actors = 3;
  s.timers_pending = 1;
  troupe::NodeMetrics node;
  node.name = "a";
  node.peers.push_back(
      {.node = "b", .address = "127.0.0.1:7001", .state = "up", .envelopes_out = 8, .rtt_seconds = 0.001});
  node.refusals.emplace_back("version", 2);
  s.nodes.push_back(node);

  const json j = json::parse(troupe::observe::metrics_json(s));
  CHECK(j["taken"].get<double>() == doctest::Approx(1.7e9));
  CHECK(j["uptime_seconds"].get<double>() == doctest::Approx(1.5));
  REQUIRE(j["workers"].size() == 1);
  CHECK(j["workers"][0]["index"] == 2);
  CHECK(j["workers"][0]["compensating"] == true);
  CHECK(j["workers"][0]["busy_seconds"].get<double>() == doctest::Approx(0.25));
  CHECK(j["workers"][0]["parked_seconds"].get<double>() == doctest::Approx(0.75));
  CHECK(j["workers"][0]["turns"] == 10);
  CHECK(j["handling_time_buckets"].size() == troupe::handling_time_buckets.size());
  REQUIRE(j["actor_types"].size() == 1);
  const json& type = j["actor_types"][0];
  CHECK(type["type"] == "Echo \xef\xbf\xbd");  // U+FFFD
  CHECK(type["live"] == 3);
  CHECK(type["messages"] == 99);
  CHECK(type["exits"]["error"] == 4);
  CHECK(type["exits"]["normal"] == 0);
  CHECK(type["handling_time"]["counts"].size() == troupe::handling_time_buckets.size() + 1);
  CHECK(type["handling_time"]["counts"][1] == 6);
  CHECK(type["handling_time"]["count"] == 6);
  CHECK(type["handling_time"]["sum_seconds"].get<double>() == doctest::Approx(0.5));
  REQUIRE(j["mailboxes"].size() == 1);
  CHECK(j["mailboxes"][0]["type"] == "Sink");
  CHECK(j["mailboxes"][0]["actor"] == 5);
  CHECK(j["mailboxes"][0]["depth"] == 12);
  CHECK(j["mailboxes"][0]["at_least"] == false);
  CHECK(j["mailboxes"][0]["age_seconds"].get<double>() == doctest::Approx(2.0));
  CHECK(j["dead_letters"]["unhandled"] == 7);
  CHECK(j["dead_letters"].size() == troupe::dead_letter_reasons);
  CHECK(j["live_actors"] == 3);
  CHECK(j["timers_pending"] == 1);
  CHECK(j["blocking_threads"] == 0);
  CHECK(j["stuck_turns"] == 0);
  REQUIRE(j["nodes"].size() == 1);
  CHECK(j["nodes"][0]["name"] == "a");
  REQUIRE(j["nodes"][0]["peers"].size() == 1);
  CHECK(j["nodes"][0]["peers"][0]["node"] == "b");
  CHECK(j["nodes"][0]["peers"][0]["address"] == "127.0.0.1:7001");
  CHECK(j["nodes"][0]["peers"][0]["state"] == "up");
  CHECK(j["nodes"][0]["peers"][0]["envelopes_out"] == 8);
  CHECK(j["nodes"][0]["peers"][0]["rtt_seconds"].get<double>() == doctest::Approx(0.001));
  CHECK(j["nodes"][0]["refusals"]["version"] == 2);
}
