// nodes: troupe actors spread over two node processes on this machine — the actor counterpart of
// Python's multiprocessing. The tool's process is one node; it starts a second node process
// (troupe-contrast-node) and splits the workers between them. Square summers live on both nodes
// (the remote ones spawned there by name); each job is a request to one of them, awaited by a
// small local actor, and the two halves of the work run in separate address spaces, with
// nothing shared but the TCP connection that carries the requests and the sums.
//  - cpu only (the other workloads share one counter or one bank: state that lives in one place).
#include "models.hpp"
#include "nodes_protocol.hpp"

#include <troupe/runtime/trace.hpp>
#include <troupe/transport/node.hpp>
#include <troupe/troupe.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#ifndef TROUPE_CONTRAST_NODE
#error "TROUPE_CONTRAST_NODE must name the troupe-contrast-node program"
#endif

namespace contrast {

namespace {

constexpr auto kPatience = std::chrono::hours(1);  // a failure bound, never reached when all is well

// The second node: a child process whose stdin is a pipe; closing it (the destructor) stops it.
// It never outlives the tool: its pipes are O_CLOEXEC (no later child holds them), and the kernel
// kills it if the tool dies first (PR_SET_PDEATHSIG; the getppid() check covers a tool that died
// before the child set it). With `trace_path`, it records a trace and writes it there as it exits
// (TROUPE_TRACE), so that the timeline shows both processes.
class NodeProcess {
 public:
  NodeProcess(const std::string& name, unsigned workers, const std::string& secret, const std::string& trace_path) {
    int to_child[2];
    int from_child[2];
    if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0) return;
    const std::string workers_arg = std::to_string(workers);
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(126);
      ::dup2(to_child[0], 0);
      ::dup2(from_child[1], 1);
      for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]}) ::close(fd);
      ::setenv("TROUPE_SECRET", secret.c_str(), 1);
      if (trace_path.empty()) {
        ::unsetenv("TROUPE_TRACE");
      } else {
        ::setenv("TROUPE_TRACE", trace_path.c_str(), 1);
      }
      ::execl(TROUPE_CONTRAST_NODE, "troupe-contrast-node", name.c_str(), workers_arg.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    stdin_ = to_child[1];
    FILE* out = ::fdopen(from_child[0], "r");
    unsigned port = 0;
    if (out != nullptr && std::fscanf(out, "port %u", &port) == 1 && port > 0 && port < 65536) {
      port_ = static_cast<std::uint16_t>(port);
    }
    if (out != nullptr) std::fclose(out);
  }
  ~NodeProcess() {
    if (stdin_ >= 0) ::close(stdin_);
    if (pid_ <= 0) return;
    int status = 0;
    for (int i = 0; i < 2000 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (::waitpid(pid_, &status, WNOHANG) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
  }
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;

  std::uint16_t port() const noexcept { return port_; }  // 0: it did not start

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  std::uint16_t port_ = 0;
};

// 256 random bits as 64 hex digits (a node refuses a secret under 128 bits).
std::string random_secret() {
  std::random_device device;
  std::string secret;
  for (int i = 0; i < 64; ++i) secret += "0123456789abcdef"[device() % 16];
  return secret;
}

struct Ask {  // local: ask `summer` for job n, tell `reply_to`
  troupe::DynamicHandle summer;
  std::uint64_t n;
  troupe::DynamicHandle reply_to;
};
struct Partial {
  troupe::Result<nodes::SumResult> sum;
};

auto local_summer(troupe::Context&) {
  return troupe::behavior([](const nodes::SumJob& job) {
    const u128 sum = sum_of_squares(job.n);
    return nodes::SumResult{static_cast<std::uint64_t>(sum), static_cast<std::uint64_t>(sum >> 64)};
  });
}

// Awaits one job's sum (without blocking a worker) and passes it on.
auto asker(troupe::Context& self) {
  return troupe::behavior([&self](Ask ask) -> troupe::Task<void> {
    nodes::SumJob job{ask.n};
    troupe::Result<nodes::SumResult> sum =
        co_await self.request<nodes::SumResult>(ask.summer, std::move(job), kPatience);
    ask.reply_to.send(Partial{std::move(sum)});
    self.quit();
  });
}

// Where the second node writes its trace when this run is traced (empty: it is not).
std::string peer_trace_path() {
  if (!troupe::runtime::trace::enabled()) return {};
  const char* tmp = std::getenv("TMPDIR");
  std::string path = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/troupe-contrast-peer.XXXXXX";
  const int fd = ::mkstemp(path.data());
  if (fd < 0) return {};
  ::close(fd);
  return path;
}

Outcome cpu_with(NodeProcess& peer, const std::string& secret, const Params& p, unsigned local_workers) {
  if (peer.port() == 0) return failure("the second node process did not start");

  troupe::Config config;
  config.workers = local_workers;
  troupe::System system(config);
  troupe::transport::NodeConfig node_config;
  node_config.name = "contrast";
  node_config.secret = secret;
  troupe::transport::Node node(system, node_config);
  node.add_peer("contrast-peer", "127.0.0.1", peer.port());

  // Each node gets half of the 20 values, as a 2-process pool would. The second node's jobs are
  // handed out first: a job handed out behind a local one would wait for a worker that is
  // computing (no turn is preempted; the safety net moves it after Config::stuck_turn, to a
  // compensating worker that may well take a local job first), and the second node would sit
  // idle meanwhile. A pool's parent, likewise, hands every task out before any result comes back.
  std::vector<troupe::DynamicHandle> summers(kCpuValues);
  for (unsigned k = 1; k < kCpuValues; k += 2) {
    auto remote = node.spawn("contrast-peer", nodes::kSummerType, nodes::SummerArgs{}, std::chrono::seconds(10));
    if (!remote) return failure("remote spawn failed: " + remote.error().message());
    summers[k] = *remote;
  }
  for (unsigned k = 0; k < kCpuValues; k += 2) summers[k] = troupe::DynamicHandle(system.spawn(local_summer));
  troupe::ScopedActor me(system);
  for (unsigned first : {1u, 0u}) {  // the remote ones (odd k), then the local ones
    for (unsigned k = first; k < kCpuValues; k += 2) {
      system.spawn(asker).send(Ask{summers[k], p.cpu_first + k, me.handle()});
    }
  }
  u128 total = 0;
  for (unsigned k = 0; k < kCpuValues; ++k) {
    troupe::Result<Partial> partial = me.receive<Partial>(kPatience);
    if (!partial) return failure("no result: " + partial.error().message());
    if (!partial->sum) return failure("a job failed: " + partial->sum.error().message());
    total += (u128{partial->sum->high} << 64) | partial->sum->low;
  }
  return check_cpu(p, total);
}

Outcome cpu(const Params& p) {
  const unsigned local_workers = std::max(1u, p.workers / 2);
  const unsigned remote_workers = std::max(1u, p.workers - local_workers);
  const std::string trace_path = peer_trace_path();
  Outcome outcome;
  {
    const std::string secret = random_secret();
    NodeProcess peer("contrast-peer", remote_workers, secret, trace_path);
    outcome = cpu_with(peer, secret, p, local_workers);
  }  // the peer has exited: its trace is written
  if (!trace_path.empty()) outcome.process_traces.push_back({"contrast-peer", trace_path});
  return outcome;
}

}  // namespace

std::optional<Outcome> run_nodes(Workload w, const Params& p) {
  if (w != Workload::cpu) return std::nullopt;
  return cpu(p);
}

}  // namespace contrast
