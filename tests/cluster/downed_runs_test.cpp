// The runs a member declared down (transport/src/cluster/downed_runs.hpp): refused as themselves
// for their time and no longer, and the record holds only the downs of that time.
#include "downed_runs.hpp"

#include <doctest/doctest.h>

#include <string>

using troupe::transport::detail::DownedRuns;
using namespace std::chrono_literals;

namespace {
const DownedRuns::TimePoint t0 = DownedRuns::TimePoint{} + 1000h;
}

TEST_CASE("a run declared down is refused until its time is up, and then no longer") {
  DownedRuns downed(10s);
  downed.declared_down("b", 7, t0);
  CHECK(downed.refuses("b", 7, t0));
  CHECK(downed.refuses("b", 7, t0 + 10s - 1ns));
  CHECK_FALSE(downed.refuses("b", 7, t0 + 10s));
  CHECK_FALSE(downed.refuses("b", 8, t0));  // another run of the name: a restart, welcome
  CHECK_FALSE(downed.refuses("c", 7, t0));
}

TEST_CASE("a later run of a name declared down replaces the earlier one") {
  DownedRuns downed(10s);
  downed.declared_down("b", 7, t0);
  downed.declared_down("b", 9, t0 + 5s);
  CHECK_FALSE(downed.refuses("b", 7, t0 + 5s));
  CHECK(downed.refuses("b", 9, t0 + 14s));  // its own time, from its own down
  CHECK(downed.size() == 1);
}

TEST_CASE("the downs whose time is up are dropped at the next down: the record does not grow with every name") {
  DownedRuns downed(10s);
  for (int i = 0; i < 1000; ++i) downed.declared_down("node-" + std::to_string(i), 1, t0 + i * 1ms);
  CHECK(downed.size() == 1000);
  // At the next down, node-0 to node-500 are past their time (node-500's ends at that moment):
  // dropped; the other 499 are kept, still refused.
  downed.declared_down("another", 1, t0 + 10s + 500ms);
  CHECK(downed.size() == 500);
  CHECK_FALSE(downed.refuses("node-500", 1, t0 + 10s + 500ms));
  CHECK(downed.refuses("node-501", 1, t0 + 10s + 500ms));
  // A node that keeps declaring fresh names down holds only those of the last 10 s.
  for (int i = 0; i < 1000; ++i) downed.declared_down("fresh-" + std::to_string(i), 1, t0 + 20s + i * 1s);
  CHECK(downed.size() == 10);
  downed.clear();  // a new run of this node
  CHECK(downed.size() == 0);
  CHECK_FALSE(downed.refuses("fresh-999", 1, t0 + 1019s));
}

TEST_CASE("Duration::max() remembers a down for as long as the node runs; zero not at all") {
  DownedRuns for_ever(troupe::Duration::max());
  for_ever.declared_down("b", 7, t0);  // no overflow past the clock's end
  CHECK(for_ever.refuses("b", 7, t0 + 100'000h));
  DownedRuns never(troupe::Duration::zero());
  never.declared_down("b", 7, t0);
  CHECK_FALSE(never.refuses("b", 7, t0));
}
