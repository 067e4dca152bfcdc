// A TCP proxy on 127.0.0.1 that the test controls, for network partitions between two nodes in
// one process: a dials the proxy's port, the proxy forwards to b's. partition() cuts the link as
// a failed switch would: the connections through it stay open but carry nothing more (what either
// end writes stays in the kernel's buffers, unread), so each end can only notice by its own
// heartbeat timeout; and while partitioned, a new connection is closed as soon as it is accepted
// (an unreachable network). heal() forwards new connections again; those cut stay cut, as their
// ends have given up on them, until the proxy is destroyed. It listens on a free port of 127.0.0.1,
// or where it is told: another loopback address (127.0.0.2) on the target's own port stands in for
// the target's address as a node advertises it (NodeConfig::advertise_host), so that the
// connections others dial to that node go through the proxy.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace transport_test {

class TcpProxy {
 public:
  explicit TcpProxy(std::uint16_t target_port, const char* listen_host = "127.0.0.1", std::uint16_t listen_port = 0)
      : target_port_(target_port) {
    sockaddr_in addr = loopback(listen_port);
    if (::inet_pton(AF_INET, listen_host, &addr.sin_addr) != 1) throw std::runtime_error("TcpProxy: bad listen host");
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    // SO_REUSEADDR: the connections an earlier proxy on this address closed first linger in
    // TIME_WAIT on it for a minute, and a node given the same port on 127.0.0.1 since (nothing
    // stops the kernel from choosing it) would otherwise find its proxy's address taken. A
    // listening socket still holds its address against this one.
    const int reuse = 1;
    if (listener_ < 0 || ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse) != 0 ||
        ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener_, 16) != 0 ||
        ::pipe2(wake_, O_CLOEXEC) != 0) {
      const std::string why = std::strerror(errno);
      if (listener_ >= 0) ::close(listener_);
      throw std::runtime_error("TcpProxy: cannot listen on " + std::string(listen_host) + ":" +
                               std::to_string(listen_port) + ": " + why);
    }
    socklen_t length = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &length);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~TcpProxy() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      wake();
    }
    thread_.join();
    for (const Link& l : links_) {
      ::close(l.a);
      ::close(l.b);
    }
    ::close(listener_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  // Connections accepted so far (forwarded or not).
  std::uint64_t accepted() const noexcept { return accepted_.load(std::memory_order_relaxed); }

  // Returns once the proxy thread has cut every connection: nothing it forwards after this.
  void partition() { set_partitioned(true); }
  void heal() { set_partitioned(false); }

 private:
  struct Link {
    int a;  // the dialer's end
    int b;  // the target's end
    bool cut = false;
  };

  static sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
  }

  void wake() { (void)!::write(wake_[1], "x", 1); }

  void set_partitioned(bool on) {
    std::unique_lock lock(mutex_);
    partitioned_ = on;
    const std::uint64_t wanted = ++requested_;
    wake();
    // The thread takes a change between polls; waiting for it makes "cut" a fact when this returns.
    while (applied_ < wanted) applied_changed_.wait(lock);
  }

  void run() {
    bool partitioned = false;
    for (;;) {
      std::vector<pollfd> fds{{listener_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      for (const Link& l : links_) {
        if (l.cut) continue;
        fds.push_back({l.a, POLLIN, 0});
        fds.push_back({l.b, POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), -1) < 0) continue;  // EINTR
      if (fds[1].revents != 0) {
        char drain[64];
        (void)!::read(wake_[0], drain, sizeof drain);
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        partitioned = partitioned_;
        if (partitioned) {
          for (Link& l : links_) l.cut = true;
        }
        applied_ = requested_;
        applied_changed_.notify_all();
        continue;  // the link list may have changed: poll afresh
      }
      // Forwards what each live link has (the links polled above, in order: a new one is added
      // after); a link whose end closed or failed is closed both ways. The tests' traffic is small,
      // so a blocking send to the other end does not stall the proxy.
      std::size_t i = 2;
      for (auto it = links_.begin(); it != links_.end();) {
        if (it->cut) {
          ++it;
          continue;
        }
        const bool ok = forward(fds[i].revents, it->a, it->b) && forward(fds[i + 1].revents, it->b, it->a);
        i += 2;
        if (ok) {
          ++it;
        } else {
          ::close(it->a);
          ::close(it->b);
          it = links_.erase(it);
        }
      }
      if (fds[0].revents != 0) accept_one(partitioned);
    }
  }

  void accept_one(bool partitioned) {
    const int a = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (a < 0) return;
    accepted_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
    if (partitioned) {
      ::close(a);
      return;
    }
    const int b = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = loopback(target_port_);
    if (b < 0 || ::connect(b, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(a);
      if (b >= 0) ::close(b);
      return;
    }
    links_.push_back(Link{a, b});
  }

  // Copies what `from` has to `to`; false once `from` has ended or either end failed.
  static bool forward(short revents, int from, int to) {
    if (revents == 0) return true;
    char buffer[64 * 1024];
    const ssize_t n = ::recv(from, buffer, sizeof buffer, 0);
    if (n <= 0) return false;
    for (ssize_t sent = 0; sent < n;) {
      const ssize_t m = ::send(to, buffer + sent, static_cast<std::size_t>(n - sent), MSG_NOSIGNAL);
      if (m <= 0) return false;
      sent += m;
    }
    return true;
  }

  const std::uint16_t target_port_;
  std::uint16_t port_ = 0;
  int listener_ = -1;
  int wake_[2] = {-1, -1};
  std::thread thread_;
  std::atomic<std::uint64_t> accepted_{0};
  std::vector<Link> links_;  // the proxy thread's (and the destructor's, after the join)

  std::mutex mutex_;  // guards what follows, between the test's thread and the proxy's
  std::condition_variable applied_changed_;
  bool partitioned_ = false;
  bool stopping_ = false;
  std::uint64_t requested_ = 0;
  std::uint64_t applied_ = 0;
};

}  // namespace transport_test
