// What the metrics server answers (System::serve_metrics): the HTTP service behind it, one
// request at a time on the server's thread (http_server.hpp).
//
//   GET /              the dashboard (observe/web/index.html), and its files by their paths
//   GET /metrics       Prometheus text format 0.0.4, from a fresh System::metrics()
//   GET /metrics.json  the same snapshot as JSON (docs/observe.md), which the dashboard polls
//   anything else      404; another method than GET or HEAD on those paths: 405
//
// A request that fails (a snapshot or a rendering that throws) gets a 500 and its reason; the
// server and the process go on.
#pragma once

#include <troupe/system.hpp>

#include <kj/compat/http.h>

#include <string>
#include <string_view>

namespace troupe::observe::detail {

class MetricsService final : public kj::HttpService {
 public:
  MetricsService(System& system, const kj::HttpHeaderTable& headers) : system_(system), headers_(headers) {}

  kj::Promise<void> request(kj::HttpMethod method, kj::StringPtr url, const kj::HttpHeaders& headers,
                            kj::AsyncInputStream& body, Response& response) override;

 private:
  kj::Promise<void> reply(Response& response, unsigned status, kj::StringPtr status_text, std::string_view content_type,
                          std::string body);

  System& system_;
  const kj::HttpHeaderTable& headers_;
};

}  // namespace troupe::observe::detail
