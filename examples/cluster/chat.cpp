// troupe-chat: a chat room as a process group over three nodes, one of them killed mid-run.
//
//   troupe-chat [--subscribers 20] [--messages 200]
//
// Node alpha (this process) starts nodes beta and gamma as processes of its own, which join the
// cluster through it. Every node puts `subscribers` actors in the room (the group "room-42") and
// has a poster. Then:
//   1. every poster broadcasts `messages` numbered messages to the room, while all three are up;
//      every subscriber on every node must get each exactly once, in order per poster;
//   2. gamma is killed (SIGKILL); alpha and beta see it leave the room;
//   3. alpha's and beta's posters broadcast again; every subscriber left must get those exactly
//      once, in order, and nothing more of gamma's.
// Prints "chat: OK" and exits 0 only when all of it held.
#include <troupe/transport/node.hpp>
#include <troupe/troupe.hpp>

#include <CLI/CLI.hpp>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace chat {

using namespace std::chrono_literals;

struct Said {  // what the room hears
  std::string poster;
  std::uint32_t seq = 0;
};
TROUPE_WIRE_MESSAGE(Said, poster, seq);
struct Post {  // to a poster: broadcast seq first..first+count-1
  std::uint32_t first = 0;
  std::uint32_t count = 0;
};
TROUPE_WIRE_MESSAGE(Post, first, count);
struct Check {  // to a node's checker (and its subscribers): does each have exactly these?
  std::vector<std::string> posters;
  std::vector<std::uint32_t> upto;  // seq 0..upto[i]-1 from posters[i], and nothing from others
};
TROUPE_WIRE_MESSAGE(Check, posters, upto);
struct Verdict {
  std::uint32_t complete = 0;  // subscribers that have exactly what was asked, in order
  std::uint32_t wrong = 0;     // subscribers that ever got a message twice or out of order
};
TROUPE_WIRE_MESSAGE(Verdict, complete, wrong);
struct Wrong {};  // to a subscriber: 1 if it ever got a message twice or out of order
TROUPE_WIRE_MESSAGE(Wrong);

constexpr const char* kSecret = "5e0c7a1f9b3d48e2a6f04c8d1b7e93a5c2f86d0e4b1a7395e8c0d2f6a4b19e37";
constexpr const char* kRoom = "room-42";

// A subscriber: what it heard from each poster (the next seq it expects), and whether it ever
// got one out of order (a duplicate or a gap shows as one).
class Subscriber {
 public:
  auto behavior() {
    return troupe::behavior(
        [this](const Said& s) {
          std::uint32_t& expected = next_[s.poster];
          if (s.seq != expected) out_of_order_ = true;
          expected = s.seq + 1;
        },
        // 1: exactly what the Check lists, in order, and nothing from other posters.
        [this](const Check& c) -> std::uint32_t {
          if (out_of_order_ || next_.size() != c.posters.size() || c.upto.size() != c.posters.size()) return 0;
          for (std::size_t i = 0; i < c.posters.size(); ++i) {
            auto it = next_.find(c.posters[i]);
            if (it == next_.end() || it->second != c.upto[i]) return 0;
          }
          return 1;
        },
        [this](Wrong) -> std::uint32_t { return out_of_order_ ? 1 : 0; });
  }

 private:
  std::map<std::string, std::uint32_t> next_;
  bool out_of_order_ = false;
};

// This node's part: its subscribers in the room, a poster and a checker, by cluster-wide names.
void host_room(troupe::System& system, troupe::transport::Node& node, unsigned subscribers) {
  auto members = std::make_shared<std::vector<troupe::DynamicHandle>>();
  for (unsigned i = 0; i < subscribers; ++i) {
    troupe::DynamicHandle s(system.spawn<Subscriber>());
    (void)system.groups().join(kRoom, s);
    members->push_back(s);
  }
  auto poster = system.spawn([name = node.name()](troupe::Context& self) {
    return troupe::behavior([&self, name](const Post& p) -> std::uint32_t {
      for (std::uint32_t i = 0; i < p.count; ++i) self.system().groups().broadcast(kRoom, Said{name, p.first + i});
      return p.first + p.count;
    });
  });
  auto checker = system.spawn([members](troupe::Context& self) {
    return troupe::behavior([&self, members](Check c) -> troupe::Task<Verdict> {
      Verdict v;
      for (const troupe::DynamicHandle& m : *members) {
        Check ask = c;  // built before the co_await (g++ 12)
        troupe::Result<std::uint32_t> exact = co_await self.request<std::uint32_t>(m, std::move(ask));
        troupe::Result<std::uint32_t> wrong = co_await self.request<std::uint32_t>(m, Wrong{});
        v.complete += exact.value_or(0);
        v.wrong += wrong.value_or(0);
      }
      co_return v;
    });
  });
  (void)node.cluster().register_name("poster-" + node.name(), troupe::DynamicHandle(poster), 30s);
  (void)node.cluster().register_name("checker-" + node.name(), troupe::DynamicHandle(checker), 30s);
}

}  // namespace chat

namespace {

using namespace chat;

troupe::transport::NodeConfig config_of(const std::string& name, const std::string& seed) {
  troupe::transport::NodeConfig config{.name = name, .secret = kSecret};
  config.discovery =
      troupe::transport::SeedDiscovery{seed.empty() ? std::vector<std::string>{} : std::vector<std::string>{seed}};
  return config;
}

int member_main(const std::string& name, const std::string& seed, unsigned subscribers) {
  troupe::System system({.log = {.level = troupe::LogLevel::warning}});  // connections are not news here
  troupe::transport::Node node(system, config_of(name, seed));
  if (!node.cluster().wait_up(30s)) return 1;
  host_room(system, node, subscribers);
  char c;
  while (::read(STDIN_FILENO, &c, 1) > 0) {
  }
  return 0;
}

pid_t start_member(const std::string& name, const std::string& seed, unsigned subscribers, int& stdin_fd) {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlives this process
    if (::getppid() != parent) ::_exit(1);
    ::dup2(fds[0], STDIN_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    const std::string n = std::to_string(subscribers);
    ::execl("/proc/self/exe", "troupe-chat", "--member", name.c_str(), "--seed", seed.c_str(), "--subscribers",
            n.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[0]);
  stdin_fd = fds[1];
  return pid;
}

// Asks every node's checker; true when all `subscribers` on each have exactly what was asked.
bool verified(troupe::transport::Node& node, troupe::ScopedActor& me, const std::vector<std::string>& nodes,
              const Check& check, unsigned subscribers, bool quiet) {
  for (const std::string& n : nodes) {
    troupe::Result<troupe::DynamicHandle> checker = node.cluster().await_name("checker-" + n, 10s);
    if (!checker) return false;
    troupe::Result<Verdict> v = me.request<Verdict>(*checker, check, 30s);
    if (!v || v->complete != subscribers || v->wrong != 0) {
      if (!quiet) {
        std::printf(
            "chat: node %s: %u of %u subscribers have exactly what was sent, %u got one twice or out of order\n",
            n.c_str(), v ? v->complete : 0, subscribers, v ? v->wrong : 0);
      }
      return false;
    }
  }
  return true;
}

// Waits (bounded) until the check holds: broadcasts are on their way to the other nodes.
bool eventually_verified(troupe::transport::Node& node, troupe::ScopedActor& me, const std::vector<std::string>& nodes,
                         const Check& check, unsigned subscribers) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (verified(node, me, nodes, check, subscribers, true)) return true;
    std::this_thread::sleep_for(50ms);
  }
  return verified(node, me, nodes, check, subscribers, false);
}

int post(troupe::transport::Node& node, troupe::ScopedActor& me, const std::vector<std::string>& posters, Post p) {
  for (const std::string& n : posters) {
    troupe::Result<troupe::DynamicHandle> poster = node.cluster().await_name("poster-" + n, 10s);
    if (!poster || !me.request<std::uint32_t>(*poster, p, 30s)) return 1;
  }
  return 0;
}

int driver_main(unsigned subscribers, std::uint32_t messages) {
  troupe::System system({.log = {.level = troupe::LogLevel::warning}});  // connections are not news here
  troupe::transport::Node node(system, config_of("alpha", ""));
  if (!node.cluster().wait_up(30s)) return 1;
  host_room(system, node, subscribers);
  const std::string seed = "127.0.0.1:" + std::to_string(node.port());
  int beta_in = -1;
  int gamma_in = -1;
  const pid_t beta = start_member("beta", seed, subscribers, beta_in);
  const pid_t gamma = start_member("gamma", seed, subscribers, gamma_in);
  troupe::ScopedActor me(system);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (system.groups().members(kRoom).size() < 3 * subscribers && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);  // the other nodes' subscribers joining the room
  }
  std::printf("chat: %zu subscribers in %s over alpha, beta and gamma\n", system.groups().members(kRoom).size(), kRoom);

  // 1. All three post while all are up.
  const std::vector<std::string> all{"alpha", "beta", "gamma"};
  if (post(node, me, all, Post{0, messages}) != 0 ||
      !eventually_verified(node, me, all, Check{all, {messages, messages, messages}}, subscribers)) {
    std::printf("chat: FAILED\n");
    return 1;
  }
  std::printf("chat: %u messages from each of 3 posters reached all %u subscribers exactly once, in order\n", messages,
              3 * subscribers);

  // 2. gamma is killed; its subscribers leave the room everywhere.
  ::kill(gamma, SIGKILL);
  ::waitpid(gamma, nullptr, 0);
  const auto gone = std::chrono::steady_clock::now() + 30s;
  while (system.groups().members(kRoom).size() != 2 * subscribers && std::chrono::steady_clock::now() < gone) {
    std::this_thread::sleep_for(20ms);
  }
  std::printf("chat: gamma killed; %zu subscribers left in the room\n", system.groups().members(kRoom).size());

  // 3. alpha and beta post again: the subscribers left get those too, once each and in order,
  //    and nothing more of gamma's.
  const std::vector<std::string> left{"alpha", "beta"};
  const bool ok = post(node, me, left, Post{messages, messages}) == 0 &&
                  eventually_verified(node, me, left, Check{all, {2 * messages, 2 * messages, messages}}, subscribers);
  ::close(beta_in);
  ::close(gamma_in);
  ::waitpid(beta, nullptr, 0);
  if (!ok) {
    std::printf("chat: FAILED\n");
    return 1;
  }
  std::printf("chat: %u more from alpha and beta reached all %u subscribers left exactly once, in order\nchat: OK\n",
              messages, 2 * subscribers);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"troupe-chat: a chat room as a process group over three nodes, one killed mid-run"};
  unsigned subscribers = 20;
  std::uint32_t messages = 200;
  std::string member;
  std::string seed;
  app.add_option("--subscribers", subscribers, "subscribers in the room on each node")->capture_default_str();
  app.add_option("--messages", messages, "messages each poster broadcasts per round")->capture_default_str();
  app.add_option("--member", member, "(internal) run as this member node");
  app.add_option("--seed", seed, "(internal) the seed a member joins through");
  CLI11_PARSE(app, argc, argv);
  ::signal(SIGPIPE, SIG_IGN);
  if (!member.empty()) return member_main(member, seed, subscribers);
  return driver_main(subscribers, messages);
}
