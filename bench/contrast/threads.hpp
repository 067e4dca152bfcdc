// Helpers the thread-based models share: start n threads and join them, and blocking requests to
// the io workload's latency server.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tracing.hpp"

namespace contrast {

// Runs body(0) .. body(n-1) on n threads and waits for all of them. Thread i is named
// "<role> thread <i>" in traces ("gil thread 0").
inline void run_threads(unsigned n, std::string_view role, const std::function<void(unsigned)>& body) {
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (unsigned i = 0; i < n; ++i) {
    threads.emplace_back([&body, role, i] {
      trace::name_this_thread(std::string(role) + " thread " + std::to_string(i));
      body(i);
    });
  }
  for (std::thread& t : threads) t.join();
}

// A blocking TCP connection to 127.0.0.1:port (closed by the destructor).
class BlockingConnection {
 public:
  explicit BlockingConnection(std::uint16_t port);
  ~BlockingConnection();
  BlockingConnection(const BlockingConnection&) = delete;
  BlockingConnection& operator=(const BlockingConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Sends one request and blocks until its answer arrives; nullopt if the connection failed.
  // Connecting and asking are each one `wait_io` span.
  std::optional<std::uint64_t> ask(std::uint64_t request);

 private:
  int fd_ = -1;
};

}  // namespace contrast
