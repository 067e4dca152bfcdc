// A system serving its metrics over HTTP (System::serve_metrics, Config::metrics_address): a
// scrape counts the messages an actor type handled, /metrics.json parses, other paths get 404,
// a system serves once, bad addresses are refused with a reason, a malformed request harms
// nothing, connections are bounded, and shutdown stops the server.
#include <troupe/troupe.hpp>

#include "http_get.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace troupe_test;

namespace {

struct Ping {
  int n;
};
struct WhatName {};

class Echo {
 public:
  explicit Echo(troupe::Context& self) : self_(self) {}
  auto behavior() {
    return troupe::behavior([](Ping p) { return p.n; }, [this](WhatName) { return std::string(self_.name()); });
  }

 private:
  troupe::Context& self_;
};

troupe::Config serving(const std::string& address = "127.0.0.1:0") {
  troupe::Config config;
  config.workers = 2;
  config.metrics_address = address;
  return config;
}

// The value of the sample line that starts with `series` ("name{labels}"); -1 if there is none.
double sample_value(const std::string& exposition, const std::string& series) {
  std::istringstream in(exposition);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
}

// A label value as the exposition writes it.
std::string escaped(const std::string& value) {
  std::string out;
  for (const char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out;
}

int port_of(const std::string& address) { return std::stoi(address.substr(address.rfind(':') + 1)); }

// A TCP connection to the server at `address` on 127.0.0.1, whose reads fail after 10 s rather
// than hang the test.
int connect_to(const std::string& address) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port_of(address)));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval wait{10, 0};
  REQUIRE(::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait) == 0);
  REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0);
  return fd;
}

}  // namespace

TEST_CASE("serve_metrics: a scrape of /metrics counts the messages an actor type handled") {
  troupe::System system(serving());
  const std::string address = system.metrics_address();
  REQUIRE(address.rfind("127.0.0.1:", 0) == 0);
  CHECK(port_of(address) > 0);  // port 0 became a real one

  auto echo = system.spawn<Echo>();
  troupe::ScopedActor self(system);
  constexpr int requests = 300;
  for (int i = 0; i < requests; ++i) REQUIRE(self.request(echo, Ping{i}).value() == i);
  const troupe::Result<std::string> type = self.request(echo, WhatName{});
  REQUIRE(type);
  const std::string series = "troupe_actor_messages_total{type=\"" + escaped(*type) + "\"}";

  // A handler's message is counted at the end of its turn, which may come after its reply.
  HttpReply reply;
  CHECK(eventually([&] {
    reply = http_get(address, "/metrics");
    return sample_value(reply.body, series) >= requests + 1;
  }));
  CHECK(reply.status == 200);
  CHECK(reply.content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(sample_value(reply.body, "troupe_actors_live{type=\"" + escaped(*type) + "\"}") == 1);
  CHECK(sample_value(reply.body, "troupe_worker_turns_total{worker=\"0\"}") >= 0);
  CHECK(sample_value(reply.body, "troupe_uptime_seconds") > 0);
}

TEST_CASE("serve_metrics: /metrics.json is the snapshot as JSON; other paths 404, other methods 405") {
  troupe::System system(serving());
  const std::string address = system.metrics_address();
  auto echo = system.spawn<Echo>();
  troupe::ScopedActor self(system);
  REQUIRE(self.request(echo, Ping{1}));

  const HttpReply json = http_get(address, "/metrics.json");
  CHECK(json.status == 200);
  CHECK(json.content_type == "application/json");
  const nlohmann::json parsed = nlohmann::json::parse(json.body);
  CHECK(parsed["workers"].size() == 2);
  CHECK(parsed["live_actors"].get<int>() >= 1);
  CHECK(parsed["actor_types"].is_array());
  CHECK(parsed["dead_letters"].is_object());

  CHECK(http_get(address, "/metrics?format=text").status == 200);  // a query is no other path
  CHECK(http_get(address, "/nothing").status == 404);
  CHECK(http_get(address, "/metrics/").status == 404);
  CHECK(http_request(address, "/metrics", "POST").status == 405);
  const HttpReply head = http_request(address, "/metrics", "HEAD");
  CHECK(head.status == 200);
  CHECK(head.body.empty());
}

TEST_CASE("serve_metrics: a system serves on one address; a second call throws and the first goes on") {
  troupe::System system(serving());
  const std::string address = system.metrics_address();
  try {
    system.serve_metrics("127.0.0.1:0");
    FAIL("a second serve_metrics did not throw");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("already") != std::string::npos);
    CHECK(std::string(e.what()).find(address) != std::string::npos);
  }
  CHECK(system.metrics_address() == address);
  CHECK(http_get(address, "/metrics").status == 200);

  // serve_metrics on a system that serves nothing yet returns where it listens.
  troupe::Config quiet;
  quiet.workers = 1;
  troupe::System other(quiet);
  CHECK(other.metrics_address().empty());
  const std::string bound = other.serve_metrics("127.0.0.1:0");
  CHECK(other.metrics_address() == bound);
  CHECK(http_get(bound, "/metrics").status == 200);
}

TEST_CASE("serve_metrics: an address that cannot be served is refused, naming it and why") {
  troupe::System first(serving());
  const std::string taken = first.metrics_address();
  troupe::Config quiet;
  quiet.workers = 1;
  troupe::System system(quiet);
  for (const std::string& bad : {std::string("nonsense"), std::string("127.0.0.1:"), std::string("127.0.0.1:99999"),
                                 std::string("::1:9464"), taken}) {
    CAPTURE(bad);
    try {
      system.serve_metrics(bad);
      FAIL("serve_metrics accepted a bad address");
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()).find(bad) != std::string::npos);
    }
  }
  CHECK(system.metrics_address().empty());
  CHECK_NOTHROW(system.serve_metrics("127.0.0.1:0"));  // the failures left nothing behind

  // In the Config, the system's constructor throws.
  CHECK_THROWS_AS([&] { troupe::System refused(serving(taken)); }(), std::runtime_error);
}

TEST_CASE("serve_metrics: a malformed request gets an error and the server goes on") {
  troupe::System system(serving());
  const std::string address = system.metrics_address();
  // kj-http answers an unknown method with 501 and a request it cannot parse with 400.
  for (const std::string& garbage :
       {std::string("NOT HTTP AT ALL\r\n\r\n"), std::string("GET /metrics HTTP/1.1\r\n\x01\x02 no colon\r\n\r\n")}) {
    const int fd = connect_to(address);
    REQUIRE(::write(fd, garbage.data(), garbage.size()) == static_cast<ssize_t>(garbage.size()));
    std::string answer;
    char buffer[512];
    for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) answer.append(buffer, static_cast<std::size_t>(n));
    ::close(fd);
    CAPTURE(answer);
    CHECK((answer.rfind("HTTP/1.1 400 ", 0) == 0 || answer.rfind("HTTP/1.1 501 ", 0) == 0));
  }

  // A client that leaves mid-request neither.
  const int gone = connect_to(address);
  const std::string half = "GET /metrics HTTP/1.1\r\nHo";
  REQUIRE(::write(gone, half.data(), half.size()) == static_cast<ssize_t>(half.size()));
  ::close(gone);

  CHECK(http_get(address, "/metrics").status == 200);
}

TEST_CASE("serve_metrics: past 64 connections at once a new one is closed, and served again once one goes") {
  troupe::System system(serving());
  const std::string address = system.metrics_address();
  // 64 clients that connect and say nothing: each holds one of the server's connections.
  std::vector<int> idle;
  for (int i = 0; i < 64; ++i) idle.push_back(connect_to(address));
  const int one_more = connect_to(address);
  char byte = 0;
  CHECK(::read(one_more, &byte, 1) == 0);  // closed by the server, unread
  ::close(one_more);
  // The idle ones are still open: a request on one is answered.
  const std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE(::write(idle[0], request.data(), request.size()) == static_cast<ssize_t>(request.size()));
  char answer[12] = {};
  REQUIRE(::read(idle[0], answer, sizeof answer) == static_cast<ssize_t>(sizeof answer));
  CHECK(std::string(answer, sizeof answer) == "HTTP/1.1 200");
  // One leaves: a new client is served (once the server has seen it go).
  ::close(idle.back());
  idle.pop_back();
  CHECK(eventually([&] {
    try {
      return http_get(address, "/metrics").status == 200;
    } catch (const std::runtime_error&) {
      return false;  // closed: the server had not yet seen the other go
    }
  }));
  for (const int fd : idle) ::close(fd);
}

TEST_CASE("serve_metrics: the system's shutdown stops its server") {
  std::string address;
  {
    troupe::System system(serving());
    address = system.metrics_address();
    REQUIRE(http_get(address, "/metrics").status == 200);
    system.shutdown();
    CHECK(system.metrics_address().empty());
    CHECK_THROWS_AS(http_get(address, "/metrics"), std::runtime_error);  // refused: nothing listens
  }
}
