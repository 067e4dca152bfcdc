// troupe-cluster-scale: a cluster of N node processes on loopback, measured (`./run bench cluster`).
//
//   troupe-cluster-scale [--nodes 16] [--etcd HOST:PORT] [--broadcasts 100] [--group-members 1000]
//
// This process is node n00, the driver; it starts nodes n01.. as child processes of its own
// program (--member), which join through n00 as their seed, or through etcd. Every node reports
// to the driver's collector actor (a cluster-wide name). It prints one line per measurement:
//   converge_ms    from the last node's start until every node sees all N up
//   down_ms        from a SIGKILL of the last node until every other node sees it down
//   whereis_us     a cluster-wide whereis (Cluster::whereis) of another node's name, median of 1,000
//   broadcast      deliveries/s of `broadcasts` broadcasts to a group of `group-members` members
//                  spread over four nodes (the driver and n01..n03), until every member had all
// Times use CLOCK_MONOTONIC (std::chrono::steady_clock), which every process on a host shares.
#include <troupe/transport/node.hpp>
#include <troupe/troupe.hpp>

#include <CLI/CLI.hpp>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Reports from the nodes to the collector.
struct Converged {
  std::string node;
  std::int64_t at_ns = 0;
};
TROUPE_WIRE_MESSAGE(Converged, node, at_ns);
struct SawDown {
  std::string node;
  std::int64_t at_ns = 0;
};
TROUPE_WIRE_MESSAGE(SawDown, node, at_ns);
struct AllReceived {  // a node's group members have every broadcast
  std::string node;
  std::int64_t at_ns = 0;
};
TROUPE_WIRE_MESSAGE(AllReceived, node, at_ns);
struct Tick {  // what is broadcast
  std::uint32_t seq = 0;
};
TROUPE_WIRE_MESSAGE(Tick, seq);
struct OneDone {};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

constexpr const char* kSecret = "5e0c7a1f9b3d48e2a6f04c8d1b7e93a5c2f86d0e4b1a7395e8c0d2f6a4b19e37";
constexpr const char* kCollector = "scale-collector";
constexpr const char* kGroup = "scale-fan";

// Each run has a key prefix of its own in etcd (the driver's pid), so that the keys of an earlier
// run, which live until their leases expire, are not members of this one.
troupe::transport::NodeConfig node_config(const std::string& name, const std::string& seed, const std::string& etcd,
                                          const std::string& prefix) {
  troupe::transport::NodeConfig config{.name = name, .secret = kSecret};
  if (!etcd.empty()) {
    troupe::transport::EtcdDiscovery discovery;
    discovery.endpoint = etcd;
    discovery.prefix = prefix;
    config.discovery = discovery;
  } else if (!seed.empty()) {
    config.discovery = troupe::transport::SeedDiscovery{{seed}};
  }
  return config;
}

// The members of the broadcast group on this node: each counts the ticks; the node reports once
// all of them have `broadcasts`.
void host_group_members(troupe::System& system, troupe::transport::Node& node, unsigned members, unsigned broadcasts,
                        troupe::DynamicHandle collector) {
  auto aggregator = system.spawn([members, collector, name = node.name()](troupe::Context&) {
    return troupe::behavior([left = members, collector, name](OneDone) mutable {
      if (--left == 0) collector.send(AllReceived{name, now_ns()});
    });
  });
  for (unsigned i = 0; i < members; ++i) {
    auto member = system.spawn([broadcasts, aggregator](troupe::Context&) {
      return troupe::behavior([got = 0u, broadcasts, aggregator](const Tick&) mutable {
        if (++got == broadcasts) aggregator.send(OneDone{});
      });
    });
    (void)system.groups().join(kGroup, troupe::DynamicHandle(member));
  }
}

// Counts the members this node sees (the snapshot, then ups and downs) and tells the collector
// when it first sees all `nodes`, and each member it sees go down.
troupe::DynamicHandle watch_members(troupe::System& system, troupe::transport::Node& node, unsigned nodes,
                                    troupe::DynamicHandle collector) {
  struct Count {
    std::size_t up = 0;
    bool converged = false;
  };
  auto count = std::make_shared<Count>();
  const std::string name = node.name();
  auto check = [count, nodes, name, collector] {
    if (count->up >= nodes && !count->converged) {
      count->converged = true;
      collector.send(Converged{name, now_ns()});
    }
  };
  auto watcher = system.spawn([=](troupe::Context&) {
    using namespace troupe::transport;
    return troupe::behavior([=](const ClusterMembers& m) { count->up = m.members.size(), check(); },
                            [=](const MemberUp&) { ++count->up, check(); }, [=](const MemberLeaving&) {},
                            [=](const MemberLeft&) { --count->up; },
                            [=](const MemberDown& d) {
                              --count->up;
                              collector.send(SawDown{name + ":" + d.member.name, now_ns()});
                            });
  });
  node.cluster().subscribe(troupe::DynamicHandle(watcher));
  return troupe::DynamicHandle(watcher);
}

// A member node: joins, reports, hosts group members, serves until its stdin closes.
int member_main(const std::string& name, unsigned nodes, const std::string& seed, const std::string& etcd,
                const std::string& prefix, unsigned group_members, unsigned broadcasts) {
  troupe::System system(troupe::Config{.workers = 1, .log = {.level = troupe::LogLevel::warning}});
  troupe::transport::Node node(system, node_config(name, seed, etcd, prefix));
  troupe::Result<troupe::DynamicHandle> collector = node.cluster().await_name(kCollector, 60s);
  if (!collector) return 1;
  auto service = system.spawn([](troupe::Context&) { return troupe::behavior([](const Tick&) {}); });
  if (!node.cluster().register_name("svc-" + name, troupe::DynamicHandle(service))) return 1;
  watch_members(system, node, nodes, *collector);
  if (group_members > 0) host_group_members(system, node, group_members, broadcasts, *collector);
  char c;
  while (::read(STDIN_FILENO, &c, 1) > 0) {
  }
  return 0;
}

struct Child {
  pid_t pid = -1;
  int stdin_fd = -1;
};

// Starts this program as member `name`; it dies with this process (PR_SET_PDEATHSIG).
Child start_member(const std::vector<std::string>& args) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe");
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    ::dup2(fds[0], STDIN_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv("/proc/self/exe", argv.data());
    ::_exit(127);
  }
  ::close(fds[0]);
  return Child{pid, fds[1]};
}

double ms_between(std::int64_t from_ns, std::int64_t to_ns) { return static_cast<double>(to_ns - from_ns) / 1e6; }

int driver_main(unsigned nodes, const std::string& etcd, unsigned group_members, unsigned broadcasts) {
  troupe::System system({.log = {.level = troupe::LogLevel::warning}});  // connections are not news here
  const std::string prefix = "/troupe-scale/" + std::to_string(::getpid()) + "/";
  troupe::transport::Node node(system, node_config("n00", "", etcd, prefix));
  if (!node.cluster().wait_up(30s)) return 1;
  troupe::ScopedActor me(system);
  auto relay = system.spawn([to = me.handle()](troupe::Context&) {
    return troupe::behavior([to](const Converged& c) { to.send(c); }, [to](const SawDown& d) { to.send(d); },
                            [to](const AllReceived& a) { to.send(a); });
  });
  if (!node.cluster().register_name(kCollector, troupe::DynamicHandle(relay))) return 1;
  watch_members(system, node, nodes, troupe::DynamicHandle(relay));
  const unsigned per_node = group_members / 4;
  host_group_members(system, node, per_node, broadcasts, troupe::DynamicHandle(relay));

  const std::string seed = "127.0.0.1:" + std::to_string(node.port());
  std::vector<Child> children;
  for (unsigned i = 1; i < nodes; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "n%02u", i);
    std::vector<std::string> args{"troupe-cluster-scale",
                                  "--member",
                                  name,
                                  "--nodes",
                                  std::to_string(nodes),
                                  "--broadcasts",
                                  std::to_string(broadcasts),
                                  "--group-members",
                                  std::to_string(i <= 3 ? per_node : 0)};
    if (!etcd.empty()) {
      args.insert(args.end(), {"--etcd", etcd, "--etcd-prefix", prefix});
    } else {
      args.insert(args.end(), {"--seed", seed});
    }
    children.push_back(start_member(args));
  }
  const std::int64_t last_start = now_ns();
  const char* how = etcd.empty() ? "seeds" : "etcd";

  // 1. Every node sees all of them up.
  std::int64_t converged = 0;
  for (unsigned seen = 0; seen < nodes; ++seen) {
    troupe::Result<Converged> c = me.receive<Converged>(120s);
    if (!c) return std::printf("cluster-scale: only %u of %u nodes saw every member\n", seen, nodes), 1;
    converged = std::max(converged, c->at_ns);
  }
  std::printf("cluster-scale discovery=%s nodes=%u converge_ms=%.1f\n", how, nodes, ms_between(last_start, converged));

  // 2. A cluster-wide whereis of another node's name (all are registered by now: each node
  //    registered before it could see every member... or soon after: await first).
  const std::string target = "svc-n01";
  if (!node.cluster().await_name(target, 30s)) return 1;
  std::vector<double> lookups;
  for (int i = 0; i < 1000; ++i) {
    const std::int64_t t0 = now_ns();
    if (!node.cluster().whereis(target)) return 1;
    lookups.push_back(static_cast<double>(now_ns() - t0) / 1e3);
  }
  std::nth_element(lookups.begin(), lookups.begin() + 500, lookups.end());
  std::printf("cluster-scale discovery=%s nodes=%u whereis_us=%.1f\n", how, nodes, lookups[500]);

  // 3. Broadcasts to a group spread over four nodes.
  if (nodes >= 4 && group_members >= 4) {
    const auto deadline = Clock::now() + 60s;
    while (system.groups().members(kGroup).size() < per_node * 4 && Clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);  // the members' joins spreading: a benchmark, not a test
    }
    const std::size_t size = system.groups().members(kGroup).size();
    const std::int64_t t0 = now_ns();
    for (unsigned b = 0; b < broadcasts; ++b) system.groups().broadcast(kGroup, Tick{b});
    std::int64_t all = 0;
    for (int n = 0; n < 4; ++n) {
      troupe::Result<AllReceived> r = me.receive<AllReceived>(120s);
      if (!r) return std::printf("cluster-scale: broadcasts not all received\n"), 1;
      all = std::max(all, r->at_ns);
    }
    const double secs = static_cast<double>(all - t0) / 1e9;
    std::printf("cluster-scale discovery=%s nodes=%u group=%zu broadcasts=%u deliveries_per_s=%.0f\n", how, nodes, size,
                broadcasts, static_cast<double>(broadcasts) * static_cast<double>(size) / secs);
  }

  // 4. The last node killed: every other node sees it down.
  char victim[16];
  std::snprintf(victim, sizeof victim, "n%02u", nodes - 1);
  const std::int64_t killed = now_ns();
  ::kill(children.back().pid, SIGKILL);
  std::int64_t all_saw = 0;
  for (unsigned seen = 0; seen + 1 < nodes;) {
    troupe::Result<SawDown> d = me.receive<SawDown>(60s);
    if (!d) return std::printf("cluster-scale: only %u nodes saw %s down\n", seen, victim), 1;
    // Only downs seen after the kill count (a node may have seen another flap before).
    if (d->at_ns >= killed && d->node.size() > 4 && d->node.substr(d->node.size() - 4) == std::string(":") + victim) {
      all_saw = std::max(all_saw, d->at_ns);
      ++seen;
    }
  }
  std::printf("cluster-scale discovery=%s nodes=%u down_ms=%.1f\n", how, nodes, ms_between(killed, all_saw));

  for (Child& c : children) ::close(c.stdin_fd);
  for (Child& c : children) ::waitpid(c.pid, nullptr, 0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"troupe-cluster-scale: N node processes on loopback, measured"};
  unsigned nodes = 16;
  std::string etcd;
  unsigned broadcasts = 100;
  unsigned group_members = 1000;
  std::string member;
  std::string seed;
  std::string prefix;
  app.add_option("--nodes", nodes, "node processes, this one included")->capture_default_str();
  app.add_option("--etcd", etcd, "HOST:PORT of an etcd to keep the members (default: seeds)");
  app.add_option("--broadcasts", broadcasts, "broadcasts to the group")->capture_default_str();
  app.add_option("--group-members", group_members, "members of the group, over four nodes")->capture_default_str();
  app.add_option("--member", member, "(internal) run as this member node");
  app.add_option("--seed", seed, "(internal) the seed a member joins through");
  app.add_option("--etcd-prefix", prefix, "(internal) the run's key prefix in etcd");
  CLI11_PARSE(app, argc, argv);
  ::signal(SIGPIPE, SIG_IGN);
  if (!member.empty()) return member_main(member, nodes, seed, etcd, prefix, group_members, broadcasts);
  if (nodes < 2) return std::printf("cluster-scale: --nodes must be at least 2\n"), 2;
  return driver_main(nodes, etcd, group_members, broadcasts);
}
