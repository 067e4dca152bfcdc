// Installs the HTTP server as System::serve_metrics's (metrics_server.hpp) when the program
// starts. troupe::troupe links this library whole (CMakeLists.txt), so that this initializer is
// kept although nothing refers to it.
#include "http_server.hpp"

#include <memory>

namespace troupe::observe::detail {

namespace {

std::unique_ptr<troupe::detail::MetricsServer> make_server(System& system, const std::string& address) {
  return std::make_unique<HttpMetricsServer>(system, address);
}

[[maybe_unused]] const bool installed = [] {
  troupe::detail::install_metrics_server(&make_server);
  return true;
}();

}  // namespace

}  // namespace troupe::observe::detail
