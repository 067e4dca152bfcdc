// NodeConfig::metrics_address: a node starts its System's metrics server, unless the System
// serves already; an address it cannot listen on fails the node's start and leaves nothing
// behind; the server belongs to the System and outlives the node.
#include "http_get.hpp"
#include "test_support.hpp"
#include "transport_test_support.hpp"

#include <troupe/transport/node.hpp>
#include <troupe/troupe.hpp>

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

using namespace transport_test;

TEST_CASE("NodeConfig::metrics_address: the node serves its System's metrics, which outlive it") {
  troupe::System system({.workers = 2});
  std::string address;
  {
    troupe::transport::NodeConfig config = node_config("a");
    config.metrics_address = "127.0.0.1:0";
    troupe::transport::Node node(system, config);
    address = system.metrics_address();
    REQUIRE(address.rfind("127.0.0.1:", 0) == 0);
    const troupe_test::HttpReply reply = troupe_test::http_get(address, "/metrics");
    CHECK(reply.status == 200);
    CHECK(reply.body.find("troupe_uptime_seconds ") != std::string::npos);
  }
  CHECK(system.metrics_address() == address);
  CHECK(troupe_test::http_get(address, "/metrics").status == 200);
}

TEST_CASE("NodeConfig::metrics_address: a System that serves already keeps its address") {
  troupe::System system({.workers = 2, .metrics_address = "127.0.0.1:0"});
  const std::string address = system.metrics_address();
  troupe::transport::NodeConfig config = node_config("a");
  config.metrics_address = "127.0.0.1:0";
  troupe::transport::Node node(system, config);
  CHECK(system.metrics_address() == address);
}

TEST_CASE("NodeConfig::metrics_address: an address taken fails the node's start, which can then start again") {
  troupe::System other({.workers = 1, .metrics_address = "127.0.0.1:0"});
  troupe::System system({.workers = 2});
  troupe::transport::NodeConfig config = node_config("a");
  config.metrics_address = other.metrics_address();
  try {
    troupe::transport::Node node(system, config);
    FAIL("the node started without its metrics");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find(other.metrics_address()) != std::string::npos);
  }
  CHECK(system.metrics_address().empty());
  config.metrics_address = "127.0.0.1:0";
  troupe::transport::Node node(system, config);
  CHECK_FALSE(system.metrics_address().empty());
}
