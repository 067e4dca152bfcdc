// Proves an installed troupe::transport works: two nodes (two systems in this one process) over
// loopback TCP; node a finds b's "squarer" by name and asks it something.
#include <troupe/transport/node.hpp>
#include <troupe/transport/wire_type.hpp>
#include <troupe/troupe.hpp>

#include <cstdio>
#include <string>

namespace consumer {
struct Square {
  std::int32_t n = 0;
};
TROUPE_WIRE_MESSAGE(Square, n);
}  // namespace consumer

int main() {
  // 256 bits as 64 hex digits, as troupe::transport::generate_secret_file writes them.
  const std::string secret = "9d2f47b1c8e03a6f5b7d1e94c2a8f06b3e5d79c1a4f28b60d7e3c95a1b4f0e82";
  troupe::System system_b;
  troupe::transport::Node b(system_b, {.name = "b", .secret = secret});
  auto squarer = system_b.spawn([](troupe::Context&) {
    return troupe::behavior([](const consumer::Square& s) { return std::int32_t{s.n * s.n}; });
  });
  if (!system_b.register_name("squarer", squarer)) return 1;

  troupe::System system_a;
  troupe::transport::Node a(system_a, {.name = "a", .secret = secret});
  a.add_peer("b", "127.0.0.1", b.port());
  troupe::Result<troupe::DynamicHandle> remote = a.whereis("b", "squarer");
  if (!remote) {
    std::fprintf(stderr, "consumer nodes: FAILED: %s\n", remote.error().message().c_str());
    return 1;
  }
  troupe::ScopedActor self(system_a);
  troupe::Result<std::int32_t> reply = self.request<std::int32_t>(*remote, consumer::Square{12}, std::chrono::seconds(10));
  if (!reply || *reply != 144) {
    std::fprintf(stderr, "consumer nodes: FAILED: %s\n", reply ? std::to_string(*reply).c_str() : reply.error().message().c_str());
    return 1;
  }
  std::printf("consumer nodes: OK\n");
  return 0;
}
