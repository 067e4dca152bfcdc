// Proves an installed troupe works: find_package(troupe), link troupe::troupe, spawn an actor,
// ask it something from main() and check the answer; the metrics exporter came with it.
#include <troupe/observe.hpp>
#include <troupe/troupe.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>

namespace {

struct Square {
  int n;
};

int fail(const std::string& why) {
  std::fprintf(stderr, "consumer: FAILED: %s\n", why.c_str());
  return 1;
}

}  // namespace

int main() {
  troupe::System system;
  auto squarer = system.spawn([](troupe::Context&) {
    return troupe::behavior([](Square s) { return s.n * s.n; });
  });

  troupe::ScopedActor self(system);
  troupe::Result<int> reply = self.request(squarer, Square{12}, std::chrono::seconds(10));
  if (!reply) return fail("request failed: " + reply.error().message());
  if (*reply != 144) return fail("expected 144, got " + std::to_string(*reply));

  // troupe::troupe links the exporter whole: serve_metrics finds its HTTP server.
  try {
    system.serve_metrics("127.0.0.1:0");
  } catch (const std::runtime_error& e) {
    return fail(e.what());
  }
  if (troupe::observe::prometheus_text(system.metrics()).find("troupe_actor_messages_total") == std::string::npos) {
    return fail("no message counter in the metrics");
  }

  std::printf("consumer: OK\n");
  return 0;
}
