// How a System reaches the HTTP server of its metrics (System::serve_metrics): the exporter
// library (troupe::observe, linked by troupe::troupe) installs its factory when the program
// starts, so that the actors layer needs no HTTP code of its own and a program that links only
// troupe::actors still builds (serve_metrics then says the exporter is missing).
#pragma once

#include <memory>
#include <string>

namespace troupe {
class System;
}

namespace troupe::detail {

// A running server; destroying it stops it (System::shutdown does, before the actors stop).
class MetricsServer {
 public:
  virtual ~MetricsServer() = default;
  virtual std::string address() const = 0;  // "host:port" it listens on
};

// Listens on `address` and serves `system`'s metrics until destroyed. Throws std::runtime_error
// (naming the address and why) if it cannot listen.
using MetricsServerFactory = std::unique_ptr<MetricsServer> (*)(System& system, const std::string& address);

// Called once, from a static initializer of the exporter library.
void install_metrics_server(MetricsServerFactory factory) noexcept;

}  // namespace troupe::detail
