#include "latency_server.hpp"

#include <fcntl.h>
#include <kj/async-io.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include <atomic>
#include <future>
#include <thread>

#include "workloads.hpp"

namespace contrast {

namespace {

class IgnoreErrors final : public kj::TaskSet::ErrorHandler {
 public:
  void taskFailed(kj::Exception&&) override {}  // a client that went away ends its own task only
};

// Requests waiting out their latency, counted on the loop thread; the maximum is read by others.
struct InFlight {
  unsigned now = 0;                // loop thread only
  std::atomic<unsigned> max{0};    // written by the loop thread, read by any
  unsigned hold_until = 0;         // see LatencyServer's constructor; 0: none
  // Loop thread only, set while the loop runs (kj promises belong to their event loop).
  kj::Own<kj::PromiseFulfiller<void>> all_in_fulfiller;
  kj::Maybe<kj::ForkedPromise<void>> all_in;
  void enter() {
    if (++now > max.load(std::memory_order_relaxed)) max.store(now, std::memory_order_relaxed);  // relaxed: a statistic
    if (hold_until != 0 && now >= hold_until && all_in_fulfiller && all_in_fulfiller->isWaiting()) {
      all_in_fulfiller->fulfill();
    }
  }
  void leave() { --now; }
  // What a request waits for before its answer: its latency, or, holding, whichever comes first
  // of its latency and `hold_until` requests in flight.
  kj::Promise<void> wait(kj::Timer& timer, kj::Duration latency) {
    kj::Promise<void> delay = timer.afterDelay(latency);
    KJ_IF_MAYBE (gate, all_in) {
      return gate->addBranch().exclusiveJoin(kj::mv(delay));
    }
    return delay;
  }
};

// One connection: read a request, wait, answer, again, until the client closes.
kj::Promise<void> serve(kj::Timer& timer, kj::Duration latency, InFlight& in_flight,
                        kj::Own<kj::AsyncIoStream> stream) {
  auto buffer = kj::heapArray<kj::byte>(8);
  auto read = stream->tryRead(buffer.begin(), 8, 8);
  return read.then([&timer, latency, &in_flight, stream = kj::mv(stream), buffer = kj::mv(buffer)](size_t n) mutable
                   -> kj::Promise<void> {
    if (n < 8) return kj::READY_NOW;  // closed by the client
    in_flight.enter();
    std::uint64_t request = 0;
    for (int i = 0; i < 8; ++i) request |= std::uint64_t{buffer[i]} << (8 * i);
    const std::uint64_t answer = io_answer(request);
    for (int i = 0; i < 8; ++i) buffer[i] = static_cast<kj::byte>(answer >> (8 * i));
    return in_flight.wait(timer, latency)
        .then([&in_flight, stream = stream.get(), data = buffer.begin()] {
          in_flight.leave();
          return stream->write(data, 8);
        })
        .attach(kj::mv(buffer))
        .then([&timer, latency, &in_flight, stream = kj::mv(stream)]() mutable {
          return serve(timer, latency, in_flight, kj::mv(stream));
        });
  });
}

kj::Promise<void> accept_loop(kj::ConnectionReceiver& listener, kj::TaskSet& connections, kj::Timer& timer,
                              kj::Duration latency, InFlight& in_flight) {
  return listener.accept().then([&listener, &connections, &timer, latency, &in_flight](kj::Own<kj::AsyncIoStream> stream) {
    connections.add(serve(timer, latency, in_flight, kj::mv(stream)));
    return accept_loop(listener, connections, timer, latency, in_flight);
  });
}

}  // namespace

struct LatencyServer::Loop {
  std::uint16_t port = 0;
  // The destructor closes stop_write; the loop sees end of file on stop_read and ends. (A pipe,
  // not kj's Executor: its futex-based wake-ups are invisible to ThreadSanitizer.)
  int stop_read = -1;
  int stop_write = -1;
  InFlight in_flight;
  std::thread thread;
};

LatencyServer::LatencyServer(std::chrono::microseconds latency, unsigned hold_until) : loop_(std::make_unique<Loop>()) {
  loop_->in_flight.hold_until = hold_until;
  std::promise<void> ready;
  std::future<void> started = ready.get_future();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  loop_->stop_read = fds[0];
  loop_->stop_write = fds[1];
  loop_->thread = std::thread([this, latency, &ready] {
    kj::AsyncIoContext io = kj::setupAsyncIo();
    kj::Timer& timer = io.provider->getTimer();
    auto listener = io.provider->getNetwork().parseAddress("127.0.0.1", 0).wait(io.waitScope)->listen();
    IgnoreErrors ignore;
    kj::TaskSet connections(ignore);
    auto stop = io.lowLevelProvider->wrapInputFd(loop_->stop_read);
    kj::byte byte;
    auto stopped = stop->tryRead(&byte, 1, 1).ignoreResult();
    loop_->port = static_cast<std::uint16_t>(listener->getPort());
    ready.set_value();  // the port is set: the constructor may return
    if (loop_->in_flight.hold_until != 0) {
      auto gate = kj::newPromiseAndFulfiller<void>();
      loop_->in_flight.all_in_fulfiller = kj::mv(gate.fulfiller);
      loop_->in_flight.all_in = gate.promise.fork();
    }
    const kj::Duration delay = latency.count() * kj::MICROSECONDS;
    stopped.exclusiveJoin(accept_loop(*listener, connections, timer, delay, loop_->in_flight)).wait(io.waitScope);
    loop_->in_flight.all_in = nullptr;  // before the event loop they belong to goes
    loop_->in_flight.all_in_fulfiller = nullptr;
  });
  started.wait();
}

LatencyServer::~LatencyServer() {
  ::close(loop_->stop_write);  // end of file on stop_read: the loop ends
  loop_->thread.join();
  ::close(loop_->stop_read);
}

std::uint16_t LatencyServer::port() const { return loop_->port; }

unsigned LatencyServer::max_in_flight() const {
  return loop_->in_flight.max.load(std::memory_order_relaxed);  // relaxed: a statistic
}

}  // namespace contrast
