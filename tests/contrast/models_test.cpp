// Every model of the contrast, on small sizes, gets every workload it implements right; the race
// never counts more than the true total.
#include <doctest/doctest.h>

#include <string>

#include "latency_server.hpp"
#include "models.hpp"
#include "test_support.hpp"

using namespace contrast;

namespace {

Params small_params() {
  Params p;
  p.workers = 2;
  p.cpu_first = 20'000;
  p.counter_workers = 4;
  p.counter_increments = troupe_test::scaled(50'000);
  p.bank_workers = 3;
  p.bank_accounts = 10;
  p.bank_transfers = troupe_test::scaled(20'000);
  p.io_requests = 24;
  p.io_concurrency = 6;
  p.switch_interval = std::chrono::milliseconds(1);
  return p;
}

}  // namespace

TEST_CASE("each model gets each workload it implements right") {
  LatencyServer server(std::chrono::milliseconds(1));
  Params p = small_params();
  p.io_port = server.port();
  for (const Model& model : all_models()) {
    for (Workload w : {Workload::cpu, Workload::counter, Workload::bank, Workload::io}) {
      CAPTURE(std::string(model.name));
      CAPTURE(std::string(to_string(w)));
      const std::optional<Outcome> outcome = model.run(w, p);
      REQUIRE(outcome.has_value() == implements(model, w));
      if (!outcome) continue;
      if (model.name == "race") {
        // Lost updates are allowed (that is the point); counting more than the total is not.
        CHECK((outcome->correct || outcome->lost > 0));
        continue;
      }
      CAPTURE(outcome->detail);
      CHECK(outcome->correct);
    }
  }
}

TEST_CASE("the checks reject wrong results") {
  const Params p = small_params();
  CHECK_FALSE(check_cpu(p, cpu_expected_total(p) + 1).correct);
  CHECK(check_cpu(p, cpu_expected_total(p)).correct);
  const Outcome lost = check_counter(p, p.counter_workers * p.counter_increments - 7);
  CHECK_FALSE(lost.correct);
  CHECK(lost.lost == 7);
  CHECK_FALSE(check_bank(p, p.bank_accounts * p.bank_initial - 1, 0).correct);
  CHECK_FALSE(check_io(p, p.io_requests, 1).correct);
  CHECK_FALSE(check_io(p, p.io_requests - 1, 0).correct);
  CHECK(sum_of_squares(1000) == sum_of_squares_closed(1000));
}

TEST_CASE("actors keep every io request in flight at once on a single worker") {
  // 12 clients, one request each, one worker thread: had a client blocked the worker while it
  // waited, the server would never see more than one request at a time. The server answers once
  // all 12 are in (a positive event, not a race against a clock); the 10 s latency only bounds
  // the run of a failing test.
  LatencyServer server(std::chrono::seconds(10), 12);
  Params p = small_params();
  p.workers = 1;
  p.io_requests = 12;
  p.io_concurrency = 12;
  p.io_port = server.port();
  const std::optional<Outcome> outcome = run_actors(Workload::io, p);
  REQUIRE(outcome.has_value());
  CHECK(outcome->correct);
  CHECK(server.max_in_flight() == 12);
}

TEST_CASE("a sequential client has one io request in flight at a time") {
  LatencyServer server(std::chrono::milliseconds(1));
  Params p = small_params();
  p.io_requests = 5;
  p.io_port = server.port();
  REQUIRE(run_sequential(Workload::io, p)->correct);
  CHECK(server.max_in_flight() == 1);
}
