// Peer processes never outlive their test (peer_process.hpp): not through a pipe another child
// inherited, not when the test leaves one stopped, not when the test process itself is killed.
#include "peer_process.hpp"
#include "test_support.hpp"
#include "transport_test_support.hpp"

#include <doctest/doctest.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

using namespace transport_test;
using namespace std::chrono_literals;

namespace {

// What /proc/PID/fd/FD points to ("pipe:[12345]", a path, ...); empty when there is no such fd.
std::string fd_target(pid_t pid, const std::string& fd) {
  const std::string link = "/proc/" + std::to_string(pid) + "/fd/" + fd;
  char target[256];
  const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
  return n <= 0 ? std::string() : std::string(target, static_cast<std::size_t>(n));
}

std::vector<std::string> open_fds(pid_t pid) {
  std::vector<std::string> targets;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return targets;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') targets.push_back(fd_target(pid, e->d_name));
  }
  ::closedir(d);
  return targets;
}

// A process as /proc/PID/stat shows it: its state letter (R, S, T for stopped, Z for a zombie)
// and its start time, which tells it from a later process that reuses the pid.
struct ProcState {
  char state = '?';
  unsigned long long start_time = 0;
};

std::optional<ProcState> proc_state(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = stat.rfind(')');  // the command name may hold spaces and parentheses
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(paren + 1));
  ProcState s;
  std::string skip;
  fields >> s.state;
  for (int i = 4; i < 22; ++i) fields >> skip;  // fields 4 to 21; the start time is field 22
  fields >> s.start_time;
  return fields ? std::optional<ProcState>(s) : std::nullopt;
}

// Whether the process `pid` that started at `start_time` still lives (a zombie has died).
bool alive(pid_t pid, unsigned long long start_time) {
  const auto s = proc_state(pid);
  return s && s->start_time == start_time && s->state != 'Z' && s->state != 'X';
}

}  // namespace

TEST_CASE("a peer's stdin pipe is inherited by no later child") {
  PeerProcess first("b", kTestSecret);
  const std::string first_stdin = fd_target(first.pid(), "0");
  REQUIRE(first_stdin.rfind("pipe:", 0) == 0);
  PeerProcess second("c", kTestSecret);
  const std::vector<std::string> fds = open_fds(second.pid());
  REQUIRE(!fds.empty());
  // Held by the second peer, the first one's stdin would not close with the test's end of it.
  for (const std::string& target : fds) CHECK(target != first_stdin);
  // It saw EOF and exited by itself (whatever its status: a sanitizer's report is not this test's
  // business); not killed by stop() after waiting in vain.
  const int status = first.stop();
  CHECK(WIFEXITED(status));
}

TEST_CASE("a peer the test left stopped exits by itself when the test is done") {
  PeerProcess peer("b", kTestSecret);
  peer.signal(SIGSTOP);
  REQUIRE(proc_state(peer.pid())->state == 'T');
  // What the destructor does when a test fails between SIGSTOP and SIGCONT. Without a SIGCONT the
  // peer never reads its EOF: stop() would kill it after 10 s and report SIGKILL.
  const int status = peer.stop();
  CHECK(WIFEXITED(status));
}

TEST_CASE("a stopped peer dies with a test process that is killed") {
  // The test process stand-in: a child that starts a peer, stops it, reports its pid, then
  // waits to be killed. SIGKILL runs no destructor, so only the kernel can end the peer.
  int report[2];
  REQUIRE(::pipe2(report, O_CLOEXEC) == 0);
  const pid_t test_process = ::fork();
  REQUIRE(test_process >= 0);
  if (test_process == 0) {
    ::close(report[0]);
    try {
      PeerProcess peer("b", kTestSecret);
      peer.signal(SIGSTOP);
      const pid_t pid = peer.pid();
      if (::write(report[1], &pid, sizeof pid) != sizeof pid) ::_exit(2);
      for (;;) ::pause();
    } catch (...) {
      ::_exit(3);
    }
  }
  ::close(report[1]);
  pid_t peer = -1;
  const bool reported = ::read(report[0], &peer, sizeof peer) == sizeof peer;
  ::close(report[0]);
  const auto before = reported ? proc_state(peer) : std::nullopt;
  ::kill(test_process, SIGKILL);
  int status = 0;
  ::waitpid(test_process, &status, 0);
  REQUIRE(reported);
  REQUIRE(before.has_value());
  CHECK(before->state == 'T');
  // The peer is no child of ours now (init or a subreaper reaps it): watch it through /proc.
  const bool gone = troupe_test::eventually([&] { return !alive(peer, before->start_time); }, 20s);
  if (!gone) ::kill(peer, SIGKILL);  // the test failed: leave no stopped process behind
  CHECK(gone);
}
