// Wraps README blocks that build a supervision tree: the child types and their arguments.
#include <troupe/troupe.hpp>

#include <string>
#include <vector>

struct WorkerConfig {
  int jobs = 1;
};

class Worker {
 public:
  Worker(troupe::Context&, WorkerConfig config) : config_(config) {}
  auto behavior() {
    return troupe::behavior([this](int n) { return n * config_.jobs; });
  }

 private:
  WorkerConfig config_;
};

class Api {
 public:
  Api(troupe::Context&, int port) : port_(port) {}
  auto behavior() {
    return troupe::behavior([this](int) { return port_; });
  }

 private:
  int port_;
};

auto db_actor(troupe::Context&, std::string path) {
  return troupe::behavior([path](int) { return path; });
}

void readme_block(troupe::System& system) {
  const WorkerConfig config;
  const std::string path = "db.sqlite";
  const int port = 8080;
  // @README_BLOCK@
}
