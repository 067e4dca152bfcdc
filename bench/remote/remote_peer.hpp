// The peer process of a remote benchmark: fork() starts it (before the parent creates any
// thread), it reports its port through a pipe and serves until the parent's end of a second pipe
// closes (so it never outlives the benchmark; and if the parent dies, even with the peer stopped,
// the kernel kills it: PR_SET_PDEATHSIG). Shared by the troupe and CAF sides.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>

namespace bench_remote {

class PeerProcess {
 public:
  // Forks; the child runs `serve(report_port)` and then waits for the parent to go.
  explicit PeerProcess(const std::function<void(const std::function<void(std::uint16_t)>&)>& serve) {
    int port_pipe[2];
    int life_pipe[2];
    // O_CLOEXEC: a program the peer or the parent starts later holds neither pipe open.
    if (::pipe2(port_pipe, O_CLOEXEC) != 0 || ::pipe2(life_pipe, O_CLOEXEC) != 0) die("pipe failed");
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) die("fork failed");
    if (pid_ == 0) {
      if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) std::_Exit(126);
      ::close(port_pipe[0]);
      ::close(life_pipe[1]);
      const int life = life_pipe[0];
      serve([&](std::uint16_t port) {
        if (::write(port_pipe[1], &port, sizeof port) != sizeof port) std::_Exit(3);
        ::close(port_pipe[1]);
        char c;
        while (::read(life, &c, 1) > 0) {
        }
        // Skips the actor system's teardown, which would wait for the served actors to stop.
        std::fflush(stdout);
        std::_Exit(0);
      });
      std::_Exit(0);
    }
    ::close(port_pipe[1]);
    ::close(life_pipe[0]);
    life_ = life_pipe[1];
    if (::read(port_pipe[0], &port_, sizeof port_) != sizeof port_) die("the peer did not report its port");
    ::close(port_pipe[0]);
  }
  ~PeerProcess() {
    ::close(life_);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  PeerProcess(const PeerProcess&) = delete;
  PeerProcess& operator=(const PeerProcess&) = delete;

  std::uint16_t port() const noexcept { return port_; }

  [[noreturn]] static void die(const char* why) {
    std::fprintf(stderr, "remote bench: %s\n", why);
    std::exit(1);
  }

 private:
  pid_t pid_ = -1;
  int life_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace bench_remote
