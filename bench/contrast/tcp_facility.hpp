// TcpFacility: TCP client connections for actors, without blocking a worker. The sockets live on a
// kj event loop thread of the facility's own; an actor asks for a connection, writes and closes
// with calls that only queue a command and wake that thread, and everything that happens on the
// connection comes back to the owning actor as messages:
//
//   TcpConnected{id}            the connection is up
//   TcpReceived{id, bytes}      bytes arrived (any split: TCP is a stream)
//   TcpClosed{id, error}        the peer closed (error empty) or the connection failed
//
// Each connection belongs to one owner (a handle); the owner's handlers run on workers as usual,
// so a thousand connections waiting on a slow server cost no threads.
#pragma once

#include <troupe/troupe.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace contrast {

struct TcpConnected {
  std::uint64_t id;
};
struct TcpReceived {
  std::uint64_t id;
  std::string bytes;
};
struct TcpClosed {
  std::uint64_t id;
  std::string error;  // empty: closed by the peer
};

class TcpFacility {
 public:
  TcpFacility();   // starts the event loop thread
  ~TcpFacility();  // closes every connection and stops the thread; no messages after it returns
  TcpFacility(const TcpFacility&) = delete;
  TcpFacility& operator=(const TcpFacility&) = delete;

  // Connects to host:port; the owner gets TcpConnected or TcpClosed. Returns the connection's id.
  // Callable from any thread; never blocks.
  std::uint64_t connect(std::string host, std::uint16_t port, troupe::DynamicHandle owner);
  // Queues bytes to send, after any queued before on the same connection.
  void write(std::uint64_t id, std::string bytes);
  // Closes the connection. Messages already on their way may still arrive; no new ones are sent.
  void close(std::uint64_t id);

 private:
  struct Loop;
  std::unique_ptr<Loop> loop_;
};

}  // namespace contrast
