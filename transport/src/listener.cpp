#include "listener.hpp"

#include "advertised_host.hpp"
#include "connection.hpp"
#include "handshake_deadline.hpp"
#include "node_core.hpp"
#include "tls.hpp"

#include <kj/debug.h>

#include <sys/stat.h>
#include <unistd.h>

namespace troupe::transport::detail {

void Listener::open() {
  const NodeConfig& config = node_.config();
  NodeLoop& loop = node_.loop();
  address_ = loop.io()
                 .getNetwork()
                 .parseAddress(kj::StringPtr(config.listen_host.c_str()), config.listen_port)
                 .wait(loop.wait_scope());
  tcp_ = address_->listen();
  port_ = static_cast<std::uint16_t>(tcp_->getPort());
  handshakes_.emplace(config.max_handshakes);
  if (!config.listen_unix.empty()) unix_ = listen_unix();
  loop.tasks().add(accept_loop(*tcp_, ""));
  if (unix_.get() != nullptr) loop.tasks().add(accept_loop(*unix_, "unix:" + config.listen_unix));
}

void Listener::close() {
  tcp_ = nullptr;
  unix_ = nullptr;
  remove_unix_socket();
  address_ = nullptr;
}

kj::Own<kj::ConnectionReceiver> Listener::listen_unix() {
  const std::string& path = node_.config().listen_unix;
  kj::WaitScope& wait_scope = node_.loop().wait_scope();
  auto address = node_.loop().io().getNetwork().parseAddress(kj::str("unix:", path.c_str())).wait(wait_scope);
  struct stat status {};
  if (::lstat(path.c_str(), &status) == 0) {
    KJ_REQUIRE(S_ISSOCK(status.st_mode), "the Unix socket path is taken by something that is not a socket", path);
    // A socket file: replace it only if nobody listens there (a node that stopped without
    // removing it); a live node's socket is an error, as a TCP port in use is.
    bool live = false;
    KJ_IF_MAYBE (refused, kj::runCatchingExceptions([&]() {
                   address->connect().wait(wait_scope);
                   live = true;
                 })) {
      (void)refused;  // nobody listens: a stale file
    }
    KJ_REQUIRE(!live, "another process listens on the Unix socket", path);
    ::unlink(path.c_str());
  }
  auto listener = address->listen();
  unix_socket_bound_ = true;
  return listener;
}

void Listener::remove_unix_socket() {
  if (!unix_socket_bound_) return;
  unix_socket_bound_ = false;
  ::unlink(node_.config().listen_unix.c_str());
}

kj::Promise<void> Listener::accept_loop(kj::ConnectionReceiver& listener, std::string unix_path) {
  return listener.accept().then([this, &listener,
                                 unix_path = kj::mv(unix_path)](kj::Own<kj::AsyncIoStream> plain) mutable {
    // Read from the plain socket: a TLS stream cannot say.
    std::string local_host = local_host_of(*plain);
    PeerAddress from = peer_address_of(*plain, unix_path);
    HandshakeSlots::Slot slot = handshakes_->take();
    if (slot == nullptr) {  // `plain` goes, closed
      node_.log().refuse(from, RefusalCause::busy,
                         std::to_string(handshakes_->max()) +
                             " connections were in their handshakes already (NodeConfig::max_handshakes)");
      return accept_loop(listener, kj::mv(unix_path));
    }
    NodeTls* tls = node_.tls();
    if (tls == nullptr) {
      serve_accepted(kj::mv(plain), kj::mv(local_host), kj::mv(from), kj::mv(slot));
    } else {
      // A failed TLS handshake (a plaintext or untrusted dialer) is a refusal: counted, logged,
      // and the stream dropped; the node serves on.
      auto secured =
          handshake_deadline(node_.loop().timer(), node_.config().handshake_timeout, tls->wrap_accepted(kj::mv(plain)));
      node_.loop().tasks().add(secured.then(
          // The slot goes with this continuation when the TLS handshake fails.
          [this, local_host = kj::mv(local_host), from,
           slot = kj::mv(slot)](kj::Own<kj::AsyncIoStream> stream) mutable {
            serve_accepted(kj::mv(stream), kj::mv(local_host), kj::mv(from), kj::mv(slot));
          },
          [this, from](kj::Exception&& e) {
            const bool timed_out = is_handshake_timeout(e);
            node_.log().refuse(from, timed_out ? RefusalCause::timeout : RefusalCause::tls,
                               timed_out ? "the TLS handshake timed out"
                                         : "the TLS handshake failed (a plaintext peer, or a certificate "
                                           "the trusted CA did not sign?)");
          }));
    }
    return accept_loop(listener, kj::mv(unix_path));
  });
}

void Listener::serve_accepted(kj::Own<kj::AsyncIoStream> stream, std::string local_host, PeerAddress from,
                              HandshakeSlots::Slot slot) {
  node_.connections().serve(
      kj::heap<Connection>(node_, kj::mv(stream), nullptr, kj::mv(local_host), kj::mv(from), kj::mv(slot)));
}

}  // namespace troupe::transport::detail
