// Idle is free across nodes too: a node with a live connection and nothing to send sleeps in its
// event loop between heartbeats, so its transport thread uses almost no CPU.
#include "peer_process.hpp"
#include "proc_threads.hpp"
#include "test_support.hpp"
#include "transport_test_support.hpp"
#include "wire_messages.hpp"

#include <troupe/transport/node.hpp>
#include <troupe/troupe.hpp>

#include <doctest/doctest.h>

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace transport_test;
using namespace std::chrono_literals;

namespace {

// The CPU time a thread has used, user and system, from its stat (utime and stime, in clock ticks).
std::chrono::milliseconds cpu_time(const std::string& task_dir) {
  std::string stat;
  std::getline(std::ifstream(task_dir + "/stat"), stat);
  // The name, in parentheses, may hold spaces: the fields are counted after its ')'.
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  const long ticks = ::sysconf(_SC_CLK_TCK);
  REQUIRE(ticks > 0);
  return std::chrono::milliseconds((utime + stime) * 1000 / static_cast<unsigned long long>(ticks));
}

}  // namespace

TEST_CASE("an idle node's transport thread uses almost no CPU") {
  PeerProcess peer("b", kTestSecret);
  troupe::System system;
  troupe::transport::Node node(system, node_config("a"));  // the defaults: heartbeats every second
  node.add_peer("b", "127.0.0.1", peer.port());
  auto echo = node.whereis("b", "echo", 10s);
  REQUIRE(echo.ok());
  troupe::ScopedActor me(system);
  REQUIRE(me.request<Pong>(*echo, Ping{1, "", {}}, 10s).ok());  // the connection is up, and used

  const std::vector<std::string> transport = troupe_test::threads_named("troupe-node");
  REQUIRE(transport.size() == 1);  // this node's, and no other node is alive in this process
  const auto cpu_before = cpu_time(transport[0]);
  const auto start = troupe_test::Clock::now();
  // The window measured: idle but for the heartbeats both ways (two or three of each).
  std::this_thread::sleep_for(3s);
  const auto used = cpu_time(transport[0]) - cpu_before;
  const auto elapsed = troupe_test::ms_since(start);
  CAPTURE(used.count());
  CAPTURE(elapsed.count());
  // A thread that polled instead of sleeping would use most of a CPU (and, on a machine shared
  // with other work, still a large share). An idle one uses well under 1%: 5% is generous even
  // under a sanitizer, and for clock ticks of 10 ms.
  CHECK(used * 20 < elapsed);
  // The node is still fine: the same connection answers.
  CHECK(me.request<Pong>(*echo, Ping{2, "", {}}, 10s).ok());
  CHECK(node.stats().connections_accepted == 1);
}
