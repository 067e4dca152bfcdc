// TROUPE_METRICS (Config::metrics_address): the first system of the process that sets no address
// of its own serves on the variable's, and only that one. Process-wide once, so in a test file
// (a CTest entry, a process) of its own; the variable the process had is put back.
#include <troupe/troupe.hpp>

#include "http_get.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <optional>
#include <string>

using namespace troupe_test;

TEST_CASE("TROUPE_METRICS: serves the first system that sets no address, and no other") {
  std::optional<std::string> saved;
  if (const char* old = std::getenv("TROUPE_METRICS")) saved = old;
  ::setenv("TROUPE_METRICS", "127.0.0.1:0", 1);
  troupe::Config config;
  config.workers = 1;

  troupe::Config own = config;
  own.metrics_address = "127.0.0.1:0";
  troupe::System configured(own);  // its own address wins, and leaves the variable to the next
  troupe::System first(config);
  troupe::System second(config);
  if (saved) {
    ::setenv("TROUPE_METRICS", saved->c_str(), 1);
  } else {
    ::unsetenv("TROUPE_METRICS");
  }

  CHECK_FALSE(configured.metrics_address().empty());
  const std::string address = first.metrics_address();
  REQUIRE_FALSE(address.empty());
  CHECK(address != configured.metrics_address());
  CHECK(second.metrics_address().empty());
  const HttpReply reply = http_get(address, "/metrics");
  CHECK(reply.status == 200);
  CHECK(reply.body.find("troupe_uptime_seconds ") != std::string::npos);
}
