// wakeup-floor: the round trip of two processes over a loopback TCP connection, each blocked in
// read() until the other writes: no runtime, no serialisation, nothing but two wake-ups. It is
// the least any messaging design whose waiting threads sleep can reach on this machine, and on a
// busy machine it is dominated by how long the kernel takes to run a woken thread. Printed next
// to troupe's and CAF's remote round trips by bench/run-remote.sh (floor=...), so a ratio can be
// read against what the machine allows.
//
// Usage: wakeup-floor wakeup-floor [SCALE] (the workload named as for troupe-remote and
// caf-remote, so bench/run-remote.sh runs all three alike); prints
// `workload=wakeup-floor unit=us value=NUMBER`.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::exit(1);
}

void exchange(int fd, bool first, long rounds) {
  std::uint64_t word = 0;
  for (long i = 0; i < rounds; ++i) {
    if (first && ::write(fd, &word, sizeof word) != sizeof word) die("write");
    if (::read(fd, &word, sizeof word) != sizeof word) die("read");
    ++word;
    if (!first && ::write(fd, &word, sizeof word) != sizeof word) die("write");
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3 || std::strcmp(argv[1], "wakeup-floor") != 0) {
    std::fprintf(stderr, "usage: wakeup-floor wakeup-floor [SCALE]\n");
    return 2;
  }
  const double scale = argc == 3 ? std::atof(argv[2]) : 1.0;
  if (!(scale > 0)) {
    std::fprintf(stderr, "wakeup-floor: SCALE must be positive\n");
    return 2;
  }
  const long rounds = static_cast<long>(20000 * scale) + 1;

  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 1) != 0 || ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    die("listen");
  const pid_t parent = ::getpid();
  const pid_t child = ::fork();
  if (child < 0) die("fork");
  const int one = 1;
  if (child == 0) {
    // Dies with the parent, even one that dies before the exchange starts.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) std::_Exit(126);
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die("connect");
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    exchange(fd, false, rounds);
    std::_Exit(0);
  }
  const int fd = ::accept(listener, nullptr, nullptr);
  if (fd < 0) die("accept");
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  exchange(fd, true, 1);  // warm-up: both sides connected and running
  const auto start = std::chrono::steady_clock::now();
  exchange(fd, true, rounds - 1);
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("peer");
  std::printf("workload=wakeup-floor unit=us value=%.2f\n", us / static_cast<double>(rounds - 1));
  return 0;
}
