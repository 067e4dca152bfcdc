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

// Serves every connection `receiver` accepts. A failed accept (no file descriptor left, say) ends
// listenHttp: listening resumes shortly after, rather than the server going deaf.
kj::Promise<void> serve(kj::HttpServer& server, kj::ConnectionReceiver& receiver, kj::Timer& timer) {
  return server.listenHttp(receiver).catch_([&server, &receiver, &timer](kj::Exception&&) {
    return timer.afterDelay(100 * kj::MILLISECONDS).then([&server, &receiver, &timer] {
      return serve(server, receiver, timer);
    });
  });
}

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
    stop.promise.exclusiveJoin(serve(server, *receiver, io.provider->getTimer())).wait(io.waitScope);
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
