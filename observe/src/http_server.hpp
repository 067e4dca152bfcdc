// The metrics server (metrics_server.hpp's MetricsServer): kj-http on a thread of its own
// ("troupe-metrics") with its own kj event loop, serving MetricsService. Requests are handled one
// at a time; each takes a snapshot, which costs the workers nothing (metrics.hpp).
#pragma once

#include <troupe/metrics_server.hpp>
#include <troupe/system.hpp>

#include <kj/async.h>

#include <future>
#include <string>
#include <thread>

namespace troupe::observe::detail {

class HttpMetricsServer final : public troupe::detail::MetricsServer {
 public:
  // Listens on `address` ("host:port"; port 0 picks a free one) before it returns. Throws
  // std::runtime_error naming the address and why it cannot listen there.
  HttpMetricsServer(System& system, const std::string& address);
  // Stops listening, drops open connections (a request under way is finished first: it runs on
  // the server's thread, which is joined here).
  ~HttpMetricsServer() noexcept override;

  std::string address() const override { return address_; }

 private:
  void run(std::promise<void>& listening);

  System& system_;
  const std::string requested_;
  // Both written by the server's thread before it fulfils `listening`, which the constructor
  // waits for: the future orders them before any read.
  std::string address_;
  kj::Own<kj::CrossThreadPromiseFulfiller<void>> stop_;
  std::thread thread_;
};

}  // namespace troupe::observe::detail
