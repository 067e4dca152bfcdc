// io as actors. Each client actor owns one connection of the TcpFacility and sends its share of
// the requests (numbers c, c + K, c + 2K, ... for client c of K), one at a time: request, then
// whatever else the worker has to do, then the answer arrives as a TcpReceived message. No worker
// ever waits on a socket, so K clients with requests in flight need no more threads than cores.
#include <troupe/troupe.hpp>

#include <chrono>

#include "model_actors_io.hpp"
#include "tcp_facility.hpp"

namespace contrast {

namespace {

struct ClientDone {
  std::uint64_t answered;
  std::uint64_t wrong;
  std::string error;
};

std::string encode(std::uint64_t v) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[static_cast<std::size_t>(i)] = static_cast<char>(v >> (8 * i));
  return bytes;
}

std::uint64_t decode(const std::string& bytes, std::size_t at) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t{static_cast<unsigned char>(bytes[at + static_cast<std::size_t>(i)])} << (8 * i);
  return v;
}

class IoClient {
 public:
  IoClient(troupe::Context& self, TcpFacility& tcp, const Params& p, unsigned index, unsigned clients,
           troupe::DynamicHandle reply_to)
      : self_(self), tcp_(tcp), next_(index), stride_(clients), end_(p.io_requests), reply_to_(std::move(reply_to)) {
    id_ = tcp_.connect("127.0.0.1", p.io_port, self_.self());
  }

  auto behavior() {
    return troupe::behavior([this](const TcpConnected&) { ask(); },
                            [this](const TcpReceived& r) {
                              pending_ += r.bytes;
                              if (pending_.size() < 8) return;  // the rest of the answer is still coming
                              const std::uint64_t answer = decode(pending_, 0);
                              pending_.erase(0, 8);
                              ++answered_;
                              if (answer != io_answer(asked_)) ++wrong_;
                              ask();
                            },
                            [this](const TcpClosed& c) { finish(c.error.empty() ? "closed by the server" : c.error); });
  }

 private:
  void ask() {
    if (next_ >= end_) return finish("");
    asked_ = next_;
    next_ += stride_;
    tcp_.write(id_, encode(asked_));
  }

  void finish(std::string error) {
    tcp_.close(id_);
    reply_to_.send(ClientDone{answered_, wrong_, std::move(error)});
    self_.quit();
  }

  troupe::Context& self_;
  TcpFacility& tcp_;
  std::uint64_t next_;
  std::uint64_t stride_;
  std::uint64_t end_;
  troupe::DynamicHandle reply_to_;
  std::uint64_t id_ = 0;
  std::uint64_t asked_ = 0;
  std::string pending_;
  std::uint64_t answered_ = 0;
  std::uint64_t wrong_ = 0;
};

}  // namespace

Outcome run_actors_io(const Params& p) {
  troupe::Config config;
  config.workers = p.workers;
  troupe::System system(config);
  troupe::ScopedActor me(system);
  // Declared after the system, so destroyed before it: once every client has reported (and
  // quit), the facility closes what is left and stops sending before the system goes away.
  TcpFacility tcp;
  const unsigned clients = static_cast<unsigned>(std::min<std::uint64_t>(p.io_concurrency, p.io_requests));
  for (unsigned c = 0; c < clients; ++c) system.spawn<IoClient>(std::ref(tcp), p, c, clients, me.handle());
  std::uint64_t answered = 0;
  std::uint64_t wrong = 0;
  std::string error;
  for (unsigned c = 0; c < clients; ++c) {
    troupe::Result<ClientDone> done = me.receive<ClientDone>(std::chrono::hours(1));
    if (!done) return failure("a client did not finish: " + done.error().message());
    answered += done->answered;
    wrong += done->wrong;
    if (error.empty()) error = done->error;
  }
  Outcome outcome = check_io(p, answered, wrong);
  if (!error.empty()) outcome.detail += " (" + error + ")";
  return outcome;
}

}  // namespace contrast
