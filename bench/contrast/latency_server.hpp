// The io workload's server: listens on 127.0.0.1 (a port the system picks) and answers each
// 8-byte request with io_answer(request) after a fixed latency, on a kj event loop thread of its
// own, so any number of connections wait at once. Each connection is served in order: request,
// latency, answer, next request.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

namespace contrast {

class LatencyServer {
 public:
  // With `hold_until` set, an answer goes out at the latency or as soon as that many requests
  // are in flight at once, whichever comes first (then at once for every later request): a test
  // sees concurrent clients all in flight without racing a clock; the latency only bounds a
  // failing test.
  explicit LatencyServer(std::chrono::microseconds latency, unsigned hold_until = 0);
  ~LatencyServer();  // stops the loop and closes every connection
  LatencyServer(const LatencyServer&) = delete;
  LatencyServer& operator=(const LatencyServer&) = delete;

  std::uint16_t port() const;
  // The most requests that were ever waiting out their latency at once: how many clients had a
  // request in flight together (1 for a client that asks one question at a time).
  unsigned max_in_flight() const;

 private:
  struct Loop;
  std::unique_ptr<Loop> loop_;
};

}  // namespace contrast
