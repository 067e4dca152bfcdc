// The second node of the contrast's `nodes` model: a troupe node in a process of its own that
// hosts square summers, spawnable by name. Started by model_nodes.cpp:
//   troupe-contrast-node NAME WORKERS   (the secret in $TROUPE_SECRET)
// Prints "port N" once listening, serves until its stdin closes (so it never outlives the tool).
#include "nodes_protocol.hpp"
#include "workloads.hpp"

#include <troupe/transport/node.hpp>
#include <troupe/troupe.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: troupe-contrast-node NAME WORKERS (secret in $TROUPE_SECRET)\n");
    return 2;
  }
  auto secret = troupe::transport::load_secret_env("TROUPE_SECRET");
  if (!secret) {
    std::fprintf(stderr, "troupe-contrast-node: %s\n", secret.error().message().c_str());
    return 2;
  }
  troupe::Config config;
  config.workers = static_cast<unsigned>(std::max(1, std::atoi(argv[2])));
  troupe::System system(config);
  troupe::transport::NodeConfig node_config;
  node_config.name = argv[1];
  node_config.secret = *secret;
  troupe::transport::Node node(system, node_config);
  node.register_spawnable<contrast::nodes::SummerArgs>(
      contrast::nodes::kSummerType, [](troupe::System& s, const contrast::nodes::SummerArgs&) {
        return troupe::DynamicHandle(s.spawn([](troupe::Context&) {
          return troupe::behavior([](const contrast::nodes::SumJob& job) {
            const contrast::u128 sum = contrast::sum_of_squares(job.n);
            return contrast::nodes::SumResult{static_cast<std::uint64_t>(sum), static_cast<std::uint64_t>(sum >> 64)};
          });
        }));
      });
  std::printf("port %u\n", static_cast<unsigned>(node.port()));
  std::fflush(stdout);
  char buffer[64];
  while (std::fread(buffer, 1, sizeof buffer, stdin) > 0) {
  }
  return 0;
}
