#include "cluster/etcd_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kj/async-io.h>
#include <kj/compat/http.h>
#include <kj/timer.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

extern char** environ;

namespace cluster_test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kEtcd = "/usr/bin/etcd";
// Each start gets this long to answer /health; only bounds a failing start.
constexpr auto kStartTimeout = 60s;
constexpr auto kPollInterval = 50ms;
// Tries with fresh ports when etcd exits at once because a port was taken after our probe.
constexpr int kStartTries = 5;

// One GET of http://ENDPOINT/health: whether etcd says {"health": "true"}. On a thread of its
// own, so that its kj event loop is never the test's (a thread has at most one).
bool healthy(const std::string& endpoint) {
  bool ok = false;
  std::thread probe([&] {
    try {
      auto io = kj::setupAsyncIo();
      kj::HttpHeaderTable table;
      auto client = kj::newHttpClient(io.provider->getTimer(), table, io.provider->getNetwork(), nullptr);
      kj::HttpHeaders headers(table);
      const std::string url = "http://" + endpoint + "/health";
      auto answer = client->request(kj::HttpMethod::GET, url.c_str(), headers)
                        .response.then([](kj::HttpClient::Response&& response) {
                          return response.body->readAllText(1 << 16).attach(kj::mv(response.body));
                        });
      const kj::String text = io.provider->getTimer().timeoutAfter(2 * kj::SECONDS, kj::mv(answer)).wait(io.waitScope);
      const auto json = nlohmann::json::parse(text.cStr(), nullptr, /*allow_exceptions=*/false);
      ok = json.is_object() && json.value("health", "") == "true";
    } catch (...) {
      ok = false;  // not up yet: refused, or no answer
    }
  });
  probe.join();
  return ok;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The last lines of etcd's log, for an error message.
std::string log_tail(const std::string& folder) {
  std::string log = read_file(folder + "/etcd.log");
  if (log.size() > 3000) log = "..." + log.substr(log.size() - 3000);
  return log.empty() ? "(etcd wrote nothing)" : log;
}

}  // namespace

// Bound to port 0, then released: etcd binds it an instant later (EtcdServer::start tries again
// with new ports in the rare case that another process took one in between).
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("could not find a free port on 127.0.0.1");
  return ntohs(address.sin_port);
}

EtcdServer::EtcdServer(std::vector<std::string> extra_flags) : extra_flags_(std::move(extra_flags)) {
  if (::access(kEtcd, X_OK) != 0) {
    throw std::runtime_error(
        "etcd is not installed (no /usr/bin/etcd): `./run test` installs it (Debian's etcd-server), "
        "or run `apt-get install etcd-server`");
  }
  const char* tmp = ::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/troupe-etcd.XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
  folder_ = pattern;
  try {
    std::string why;
    for (int attempt = 1; attempt <= kStartTries; ++attempt) {
      if (start(why)) return;
    }
    throw std::runtime_error("etcd did not start: " + why);
  } catch (...) {  // no destructor runs for a constructor that throws
    kill();
    std::error_code ignored;
    std::filesystem::remove_all(folder_, ignored);
    throw;
  }
}

EtcdServer::~EtcdServer() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(folder_, ignored);
}

void EtcdServer::stop() noexcept { end(SIGTERM); }

void EtcdServer::kill() noexcept { end(SIGKILL); }

bool EtcdServer::start(std::string& why) {
  static std::atomic<unsigned> started{0};  // relaxed: only makes names unique, orders nothing
  const std::uint16_t client_port = free_port();
  std::uint16_t peer_port = free_port();
  while (peer_port == client_port) peer_port = free_port();
  const std::string name = "troupe-test-" + std::to_string(::getpid()) + "-" +
                           std::to_string(started.fetch_add(1, std::memory_order_relaxed));
  const std::string client_url = "http://127.0.0.1:" + std::to_string(client_port);
  const std::string peer_url = "http://127.0.0.1:" + std::to_string(peer_port);
  const std::string data = folder_ + "/data";
  std::error_code ignored;
  std::filesystem::remove_all(data, ignored);  // a failed try's
  std::vector<std::string> args{kEtcd,
                                "--name=" + name,
                                "--data-dir=" + data,
                                "--listen-client-urls=" + client_url,
                                "--advertise-client-urls=" + client_url,
                                "--listen-peer-urls=" + peer_url,
                                "--initial-advertise-peer-urls=" + peer_url,
                                "--initial-cluster=" + name + "=" + peer_url,
                                "--initial-cluster-state=new"};
  args.insert(args.end(), extra_flags_.begin(), extra_flags_.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // etcd reads ETCD_* variables as flags, and refuses one that a flag also sets: leave them out.
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).rfind("ETCD_", 0) != 0) env.push_back(*e);
  }
  env.push_back(nullptr);
  const std::string log = folder_ + "/etcd.log";
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0) throw std::runtime_error("cannot create " + log);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here to execve: the test process may have threads.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(126);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd < 0 || ::dup2(null_fd, 0) < 0 || ::dup2(log_fd, 1) < 0 || ::dup2(log_fd, 2) < 0) ::_exit(126);
    ::execve(kEtcd, argv.data(), env.data());
    ::_exit(127);
  }
  ::close(log_fd);
  pid_ = pid;
  endpoint_ = "127.0.0.1:" + std::to_string(client_port);
  port_ = client_port;

  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // it exited: a port taken, or worse
      pid_ = -1;
      why = "etcd exited at start (status " + std::to_string(status) + "); its log:\n" + log_tail(folder_);
      return false;
    }
    if (healthy(endpoint_)) return true;
    std::this_thread::sleep_for(kPollInterval);
  }
  throw std::runtime_error("etcd did not answer /health within " + std::to_string(kStartTimeout.count()) +
                           " s; its log:\n" + log_tail(folder_));
}

void EtcdServer::end(int first_signal) noexcept {
  if (pid_ <= 0) return;
  ::kill(pid_, first_signal);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  pid_ = -1;
}

}  // namespace cluster_test
