// The facility's event loop. Commands from other threads go through a mutex-guarded queue; the
// loop sleeps on a kj cross-thread promise that the first command after it went idle fulfils (one
// coalesced wake-up per batch of commands, not one per command).
#include "tcp_facility.hpp"

#include <kj/async-io.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <variant>

namespace contrast {

namespace {

struct Connect {
  std::uint64_t id;
  std::string host;
  std::uint16_t port;
  troupe::DynamicHandle owner;
};
struct Write {
  std::uint64_t id;
  std::string bytes;
};
struct Close {
  std::uint64_t id;
};
using Command = std::variant<Connect, Write, Close>;

// One connection, owned by the loop thread. Members are destroyed in reverse order: the running
// task (connect, then the read loop) and pending writes are cancelled before the stream goes.
struct Connection {
  std::uint64_t id;
  troupe::DynamicHandle owner;
  kj::Own<kj::AsyncIoStream> stream;
  kj::Promise<void> writes = kj::READY_NOW;
  kj::Promise<void> task = kj::READY_NOW;
  bool closed_reported = false;

  void report_closed(std::string error) {
    if (closed_reported) return;
    closed_reported = true;
    owner.send(TcpClosed{id, std::move(error)});
  }
};

kj::Promise<void> read_loop(Connection& c) {
  auto buffer = kj::heapArray<kj::byte>(4096);
  kj::byte* data = buffer.begin();
  const size_t size = buffer.size();
  // The continuation owns the buffer (an attach() would free it before the continuation runs).
  return c.stream->tryRead(data, 1, size).then([&c, buffer = kj::mv(buffer)](size_t n) -> kj::Promise<void> {
    if (n == 0) {
      c.report_closed("");
      return kj::READY_NOW;
    }
    c.owner.send(TcpReceived{c.id, std::string(reinterpret_cast<const char*>(buffer.begin()), n)});
    return read_loop(c);
  });
}

}  // namespace

struct TcpFacility::Loop {
  std::atomic<std::uint64_t> next_id{1};

  std::mutex mutex;
  std::deque<Command> commands;                         // guarded by mutex
  kj::CrossThreadPromiseFulfiller<void>* wake = nullptr;  // guarded by mutex; set while the loop sleeps
  bool stopping = false;                                // guarded by mutex

  // Loop-thread state.
  kj::AsyncIoContext* io = nullptr;
  std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> connections;

  std::thread thread;

  void push(Command command) {
    std::lock_guard lock(mutex);
    commands.push_back(std::move(command));
    if (wake != nullptr) {
      wake->fulfill();
      wake = nullptr;
    }
  }

  // Runs queued commands, then sleeps until more come; ends when stopping.
  kj::Promise<void> next() {
    std::deque<Command> batch;
    {
      std::lock_guard lock(mutex);
      if (stopping) return kj::READY_NOW;
      if (commands.empty()) {
        auto paf = kj::newPromiseAndCrossThreadFulfiller<void>();
        wake = paf.fulfiller.get();
        // The fulfiller is destroyed here, on the loop thread, once it has been fulfilled.
        return paf.promise.attach(kj::mv(paf.fulfiller)).then([this] { return next(); });
      }
      batch.swap(commands);
    }
    for (Command& command : batch) std::visit([this](auto& c) { run(c); }, command);
    return kj::evalLater([this] { return next(); });
  }

  void run(Connect& c) {
    auto connection = std::make_unique<Connection>();
    Connection& conn = *connection;
    conn.id = c.id;
    conn.owner = std::move(c.owner);
    conn.task = io->provider->getNetwork()
                    .parseAddress(c.host, c.port)
                    .then([](kj::Own<kj::NetworkAddress> address) { return address->connect(); })
                    .then([&conn](kj::Own<kj::AsyncIoStream> stream) {
                      conn.stream = kj::mv(stream);
                      conn.owner.send(TcpConnected{conn.id});
                      return read_loop(conn);
                    })
                    .eagerlyEvaluate([&conn](kj::Exception&& e) { conn.report_closed(e.getDescription().cStr()); });
    connections.emplace(c.id, std::move(connection));
  }

  void run(Write& w) {
    auto found = connections.find(w.id);
    if (found == connections.end()) return;  // closed already
    Connection& conn = *found->second;
    if (!conn.stream) return conn.report_closed("write before the connection was up");
    auto bytes = kj::heapString(w.bytes.data(), w.bytes.size());
    const char* data = bytes.begin();
    const size_t size = bytes.size();
    conn.writes = conn.writes.then([&conn, data, size] { return conn.stream->write(data, size); })
                      .attach(kj::mv(bytes))
                      .eagerlyEvaluate([&conn](kj::Exception&& e) { conn.report_closed(e.getDescription().cStr()); });
  }

  void run(Close& c) { connections.erase(c.id); }
};

TcpFacility::TcpFacility() : loop_(std::make_unique<Loop>()) {
  loop_->thread = std::thread([loop = loop_.get()] {
    kj::AsyncIoContext io = kj::setupAsyncIo();
    loop->io = &io;
    loop->next().wait(io.waitScope);
    loop->connections.clear();  // cancels every connection's task, closes the sockets
  });
}

TcpFacility::~TcpFacility() {
  {
    std::lock_guard lock(loop_->mutex);
    loop_->stopping = true;
    if (loop_->wake != nullptr) {
      loop_->wake->fulfill();
      loop_->wake = nullptr;
    }
  }
  loop_->thread.join();
}

std::uint64_t TcpFacility::connect(std::string host, std::uint16_t port, troupe::DynamicHandle owner) {
  // relaxed: ids need only be unique.
  const std::uint64_t id = loop_->next_id.fetch_add(1, std::memory_order_relaxed);
  loop_->push(Connect{id, std::move(host), port, std::move(owner)});
  return id;
}

void TcpFacility::write(std::uint64_t id, std::string bytes) { loop_->push(Write{id, std::move(bytes)}); }

void TcpFacility::close(std::uint64_t id) { loop_->push(Close{id}); }

}  // namespace contrast
