// A small HTTP client for the observe tests: one request to a metrics server, on the calling
// thread (kj-http, with an event loop of its own for the call).
#pragma once

#include <string>

namespace troupe_test {

struct HttpReply {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

// `method` on http://address/path ("127.0.0.1:9464", "/metrics"). Throws std::runtime_error if
// the server cannot be reached or the exchange fails (kj's description).
HttpReply http_request(const std::string& address, const std::string& path, const std::string& method = "GET");

inline HttpReply http_get(const std::string& address, const std::string& path) {
  return http_request(address, path, "GET");
}

}  // namespace troupe_test
