// RequestTable (actors/src/request_table.hpp): the deadlines of an actor's requests on their way,
// earliest first, ties in the order the requests started; answered ones left behind and dropped;
// the heap bounded by the requests on their way; and a sweep that leaves what it started.
#include "request_table.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

using namespace std::chrono_literals;
using troupe::detail::PendingRequest;
using troupe::detail::RequestClock;
using troupe::detail::RequestTable;

namespace {

RequestClock::time_point at(std::chrono::milliseconds ms) { return RequestClock::time_point{} + ms; }

std::uint64_t add_due(RequestTable& table, std::chrono::milliseconds ms) {
  PendingRequest entry;
  entry.deadline = at(ms);
  return table.add(std::move(entry));
}

// Takes everything due at `now` (started no later than `sequence`), in order.
std::vector<std::uint64_t> take_all(RequestTable& table, std::chrono::milliseconds now, std::uint32_t sequence) {
  std::vector<std::uint64_t> ids;
  while (const std::uint64_t id = table.take_due(at(now), sequence)) ids.push_back(id);
  return ids;
}

}  // namespace

TEST_SUITE("request table") {
  TEST_CASE("deadlines come earliest first, ties in the order the requests started; one without a deadline never") {
    RequestTable table;
    const auto a = add_due(table, 300ms);
    const auto b = add_due(table, 100ms);
    const auto c = add_due(table, 200ms);
    const auto d = add_due(table, 200ms);
    const auto none = table.add(PendingRequest{});
    CHECK(table.timed() == 4);
    CHECK(table.earliest_deadline() == at(100ms));
    CHECK(take_all(table, 99ms, table.last_sequence()).empty());
    CHECK(take_all(table, 250ms, table.last_sequence()) == std::vector<std::uint64_t>{b, c, d});
    // Taken, they stay in the table without a deadline, until their timeouts are handled.
    REQUIRE(table.find(b) != nullptr);
    CHECK_FALSE(table.find(b)->timed());
    CHECK(table.timed() == 1);
    CHECK(take_all(table, 1000ms, table.last_sequence()) == std::vector<std::uint64_t>{a});
    CHECK(table.earliest_deadline() == RequestClock::time_point::max());
    CHECK(table.find(none) != nullptr);
    CHECK(table.timed() == 0);
  }

  TEST_CASE("an answered request's deadline is passed over") {
    RequestTable table;
    const auto first = add_due(table, 100ms);
    const auto second = add_due(table, 200ms);
    table.take(*table.find(first));  // answered
    CHECK(table.timed() == 1);
    CHECK(table.earliest_deadline() == at(200ms));
    CHECK(take_all(table, 500ms, table.last_sequence()) == std::vector<std::uint64_t>{second});
  }

  TEST_CASE("a sweep leaves the requests started since it began, however due") {
    RequestTable table;
    const auto old = add_due(table, 100ms);
    const std::uint32_t sweep_start = table.last_sequence();
    const auto started_during = add_due(table, 0ms);     // its time was up when it started
    CHECK(take_all(table, 100ms, sweep_start).empty());  // the new one is on top: the rest waits
    CHECK(take_all(table, 100ms, table.last_sequence()) == std::vector<std::uint64_t>{started_during, old});
  }

  TEST_CASE("answered requests leave at most about as many stale deadlines as live ones") {
    RequestTable table;
    const auto held = add_due(table, 1000000ms);
    std::size_t most_held = 0;
    for (int i = 0; i < 100000; ++i) {
      const auto id = add_due(table, std::chrono::milliseconds(1000 + i));
      table.take(*table.find(id));
      most_held = std::max(most_held, table.deadlines_held());
    }
    CHECK(most_held <= 2 * 2 + 64);  // at most two timed at once: the held one and the newest
    CHECK(table.timed() == 1);
    CHECK(table.earliest_deadline() == at(1000000ms));
    CHECK(take_all(table, 1000000ms, table.last_sequence()) == std::vector<std::uint64_t>{held});
  }
}  // TEST_SUITE
