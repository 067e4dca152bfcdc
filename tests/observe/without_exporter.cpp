// A program that links troupe::actors but not the exporter (troupe::observe): it builds, and
// serve_metrics says what is missing. Prints "without exporter: OK" when it does.
#include <troupe/troupe.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>

int main() {
  troupe::Config config;
  config.workers = 1;
  troupe::System system(config);
  try {
    system.serve_metrics("127.0.0.1:0");
  } catch (const std::runtime_error& e) {
    if (std::string(e.what()).find("exporter is not linked") == std::string::npos) {
      std::printf("without exporter: wrong error: %s\n", e.what());
      return 1;
    }
    std::printf("without exporter: OK (%s)\n", e.what());
    return 0;
  }
  std::printf("without exporter: serve_metrics served without the exporter\n");
  return 1;
}
