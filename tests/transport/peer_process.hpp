// Starts tests/transport's node_peer in a child process and stops it when the test is done: its
// stdin is a pipe the destructor closes (the child exits on EOF), and the destructor reaps it (a
// SIGCONT first, for a child a test left stopped; a kill if it does not exit within a few seconds).
//
// The child survives no test, however the test ends:
//  - its pipes are O_CLOEXEC, so a later child (another peer) never holds this one's stdin open;
//  - it gets SIGKILL from the kernel when the test process dies (PR_SET_PDEATHSIG, kept across
//    execve): a crash, a timeout's SIGKILL, or a peer left SIGSTOPped, which no closed pipe wakes.
//    The kernel sends it when the *thread* that forked ends, so construct a PeerProcess on the
//    thread that runs the test, not on a helper thread that ends first.
// tests/transport/child_process_test.cpp checks each of these.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#ifndef TROUPE_NODE_PEER_PATH
#error "TROUPE_NODE_PEER_PATH must name the node_peer program"
#endif

namespace transport_test {

class PeerProcess {
 public:
  // `extra` follows NAME SECRET on the command line (e.g. its TLS files); `program`: node_peer
  // by default, or another build of it (node_peer_v1).
  PeerProcess(const std::string& name, const std::string& secret, const std::vector<std::string>& extra = {},
              const char* program = TROUPE_NODE_PEER_PATH) {
    std::vector<std::string> args{"node_peer", name, secret};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int to_child[2];
    int from_child[2];
    if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0) {
      throw std::runtime_error("pipe failed");
    }
    const pid_t parent = ::getpid();  // read before fork: the child compares it with getppid()
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      // Only async-signal-safe calls from here to execv: the test process may have threads.
      if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ::_exit(126);
      // The parent may have died before prctl took effect: then no signal will ever come.
      if (::getppid() != parent) ::_exit(126);
      // dup2 clears O_CLOEXEC on the copy, so only stdin and stdout cross execv; the originals
      // close there. (A pipe end that already is fd 0 or 1 keeps its flag: clear it by hand.)
      if (::dup2(to_child[0], 0) < 0 || ::dup2(from_child[1], 1) < 0) ::_exit(126);
      ::fcntl(0, F_SETFD, 0);
      ::fcntl(1, F_SETFD, 0);
      ::execv(program, argv.data());
      ::_exit(127);
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    stdin_ = to_child[1];
    FILE* out = ::fdopen(from_child[0], "r");
    unsigned port = 0;
    const int got = out == nullptr ? 0 : std::fscanf(out, "port %u", &port);
    if (out != nullptr) std::fclose(out);
    if (got != 1 || port == 0 || port > 65535) {
      stop();
      throw std::runtime_error("node_peer did not report its port");
    }
    port_ = static_cast<std::uint16_t>(port);
  }
  ~PeerProcess() { stop(); }
  PeerProcess(const PeerProcess&) = delete;
  PeerProcess& operator=(const PeerProcess&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  pid_t pid() const noexcept { return pid_; }

  // Sends the child `sig`: SIGKILL (then reaps it) for a crash, SIGSTOP for a node that is alive
  // but silent (a partition; returns once it has stopped), SIGCONT to let it go on.
  void signal(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    if (sig == SIGSTOP) {
      int status = 0;
      ::waitpid(pid_, &status, WUNTRACED);  // the signal is delivered asynchronously
    } else if (sig == SIGKILL) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

  // Ends the child as the destructor does and returns its wait status (-1 if it was already
  // reaped): WIFEXITED when it exited by itself on its stdin's EOF, as it should even when it was
  // stopped; WIFSIGNALED (SIGKILL) when it had to be killed after 10 s.
  int stop() noexcept {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGCONT);  // a stopped child could not see its stdin close
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace transport_test
