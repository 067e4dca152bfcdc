#include "http_server.hpp"

#include "metrics_service.hpp"

#include <kj/async-io.h>
#include <kj/compat/http.h>

#include <pthread.h>

#include <charconv>
#include <stdexcept>
#include <utility>

namespace troupe::observe::detail {

namespace {

struct HostPort {
  std::string host;  // a name, an IPv4 address, or an IPv6 one in brackets
  unsigned port = 0;
};

// "host:port", with the port a number up to 65535 (0: any free one).
bool parse_host_port(const std::string& address, HostPort& out) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) return false;
  const char* first = address.data() + colon + 1;
  const char* last = address.data() + address.size();
  const auto [end, error] = std::from_chars(first, last, out.port);
  if (error != std::errc{} || end != last || out.port > 65535) return false;
  out.host = address.substr(0, colon);
  // An IPv6 address needs its brackets, or its last group would read as the port.
  return out.host.find(':') == std::string::npos || (out.host.front() == '[' && out.host.back() == ']');
}

// kj's description without its source location ("src/kj/async-io-unix.c++:945: failed: ").
std::string reason_of(const kj::Exception& e) {
  std::string text(e.getDescription().cStr());
  if (const auto failed = text.find("failed: "); failed != std::string::npos) text.erase(0, failed + 8);
  return text;
}

// Connections served at once. A scraper or a dashboard tab holds one or two; an idle one is closed
// by kj-http after its timeouts (15 s for headers, 5 s between requests). Past this bound a new
// connection is closed at once, so clients that open connections and send nothing cannot make the
// server hold a buffer and a descriptor for each without end.
constexpr std::size_t kMaxConnections = 64;

// Accepts connections on `receiver` and serves each, at most kMaxConnections at once. A failed
// accept (no file descriptor left, say) does not end it: accepting resumes shortly after, rather
// than the server going deaf.
class AcceptLoop final : private kj::TaskSet::ErrorHandler {
 public:
  AcceptLoop(kj::HttpServer& server, kj::ConnectionReceiver& receiver, kj::Timer& timer)
      : server_(server), receiver_(receiver), timer_(timer) {}

  kj::Promise<void> run() {
    return receiver_.accept().then(
        [this](kj::Own<kj::AsyncIoStream> connection) {
          if (open_ < kMaxConnections) {
            ++open_;
            connections_.add(server_.listenHttp(kj::mv(connection)).attach(kj::defer([this] { --open_; })));
          }  // else dropped: closed before a byte is read
          return run();
        },
        [this](kj::Exception&&) { return timer_.afterDelay(100 * kj::MILLISECONDS).then([this] { return run(); }); });
  }

 private:
  void taskFailed(kj::Exception&&) override {}  // one client's broken connection ends only that one

  kj::HttpServer& server_;
  kj::ConnectionReceiver& receiver_;
  kj::Timer& timer_;
  std::size_t open_ = 0;
  kj::TaskSet connections_{*this};
};

}  // namespace

HttpMetricsServer::HttpMetricsServer(System& system, const std::string& address)
    : system_(system), requested_(address) {
  HostPort at;
  if (!parse_host_port(address, at)) {
    throw std::runtime_error("cannot serve metrics on '" + address + "': the address must be HOST:PORT");
  }
  std::promise<void> listening;
  std::future<void> ready = listening.get_future();
  thread_ = std::thread([this, &listening] { run(listening); });
  pthread_setname_np(thread_.native_handle(), "troupe-metrics");  // as the workers are: top -H, /proc
  try {
    ready.get();
  } catch (...) {
    thread_.join();
    throw;
  }
}

HttpMetricsServer::~HttpMetricsServer() noexcept {
  stop_->fulfill();
  thread_.join();
}

void HttpMetricsServer::run(std::promise<void>& listening) {
  bool started = false;
  try {
    kj::AsyncIoContext io = kj::setupAsyncIo();
    auto stop = kj::newPromiseAndCrossThreadFulfiller<void>();
    HostPort at;
    parse_host_port(requested_, at);  // checked by the constructor
    kj::Own<kj::NetworkAddress> where =
        io.provider->getNetwork().parseAddress(kj::StringPtr(requested_.c_str())).wait(io.waitScope);
    kj::Own<kj::ConnectionReceiver> receiver = where->listen();
    kj::HttpHeaderTable headers;
    MetricsService service(system_, headers);
    kj::HttpServer server(io.provider->getTimer(), headers, service);
    address_ = at.host + ":" + std::to_string(receiver->getPort());
    stop_ = kj::mv(stop.fulfiller);
    started = true;
    listening.set_value();
    AcceptLoop accepting(server, *receiver, io.provider->getTimer());
    stop.promise.exclusiveJoin(accepting.run()).wait(io.waitScope);
  } catch (const kj::Exception& e) {
    if (!started) {
      listening.set_exception(
          std::make_exception_ptr(std::runtime_error("cannot serve metrics on " + requested_ + ": " + reason_of(e))));
    }
  } catch (const std::exception& e) {
    if (!started) {
      listening.set_exception(
          std::make_exception_ptr(std::runtime_error("cannot serve metrics on " + requested_ + ": " + e.what())));
    }
  }
}

}  // namespace troupe::observe::detail
