// A real etcd for a test: started on 127.0.0.1 with ports of its own, its data in a fresh
// temporary folder, and stopped (and the folder removed) by the destructor.
//
//   cluster_test::EtcdServer etcd;       // throws std::runtime_error if it cannot be had
//   client(timer, network, etcd.endpoint());  // "127.0.0.1:PORT"
//
// The constructor returns once etcd answers /health, and throws, saying why, if /usr/bin/etcd is
// missing (`./run test` installs Debian's etcd-server) or etcd does not come up. A system etcd on
// the default ports does not matter: each server picks free ports.
//
// The child survives no test: it gets SIGKILL from the kernel if the test process dies
// (PR_SET_PDEATHSIG, sent when the *thread* that started it ends: construct it on the test's
// thread). Its output goes to etcd.log in its folder, quoted in the error if it fails to start.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cluster_test {

// A TCP port free on 127.0.0.1 now (the kernel's pick for port 0): for a server a test starts, or
// an endpoint where nothing listens.
std::uint16_t free_port();

class EtcdServer {
 public:
  // extra_flags go to etcd after the fixture's own (e.g. "--max-request-bytes=8388608").
  explicit EtcdServer(std::vector<std::string> extra_flags = {});
  ~EtcdServer();
  EtcdServer(const EtcdServer&) = delete;
  EtcdServer& operator=(const EtcdServer&) = delete;

  // "127.0.0.1:PORT": etcd's client endpoint, for EtcdClient.
  const std::string& endpoint() const noexcept { return endpoint_; }
  std::uint16_t port() const noexcept { return port_; }
  pid_t pid() const noexcept { return pid_; }
  bool running() const noexcept { return pid_ > 0; }

  // Stops etcd now, as the destructor does: SIGTERM, then SIGKILL if it has not exited within
  // 10 s; returns once it has exited. Its folder stays until the destructor.
  void stop() noexcept;
  // Kills etcd outright (SIGKILL), as a crash would; returns once it has exited.
  void kill() noexcept;

 private:
  // Starts etcd on free ports and waits until it answers; false if it exited before it did
  // (another process took a port between our probe and its bind), with its log in `why`.
  bool start(std::string& why);
  void end(int first_signal) noexcept;

  std::vector<std::string> extra_flags_;
  std::string folder_;  // the temporary folder: data/ and etcd.log
  std::string endpoint_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace cluster_test
