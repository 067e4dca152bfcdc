#include "dialler.hpp"

#include "advertised_host.hpp"
#include "connection.hpp"
#include "handshake_deadline.hpp"
#include "node_core.hpp"
#include "plain_failure.hpp"
#include "tls.hpp"

namespace troupe::transport::detail {
namespace {

constexpr kj::Duration kFirstBackoff = 100 * kj::MILLISECONDS;
constexpr kj::Duration kMaxBackoff = 2 * kj::SECONDS;

// A dialled stream, encrypted once the TLS handshake succeeded. A failure is a refusal, counted
// and logged here; it rejects with kTlsRefused, and dial() fails what waits for the peer.
constexpr const char* kTlsRefused = "the TLS handshake failed";

kj::Promise<kj::Own<kj::AsyncIoStream>> secure_dialled(NodeCore& node, NodeTls& tls, Peer& p, const PeerAddress& to,
                                                       kj::Own<kj::AsyncIoStream> stream) {
  return handshake_deadline(node.loop().timer(), node.config().handshake_timeout,
                            tls.wrap_dialled(kj::mv(stream), p.name))
      .catch_([&node, &p, to](kj::Exception&& e) -> kj::Own<kj::AsyncIoStream> {
        const bool timed_out = is_handshake_timeout(e);
        node.log().refuse(to, timed_out ? RefusalCause::timeout : RefusalCause::tls,
                          timed_out ? std::string("the TLS handshake timed out")
                                    : "the TLS handshake failed (a plaintext node, or a certificate "
                                      "that does not name node '" +
                                          p.name + "' or that the trusted CA did not sign?)");
        fail_plainly(kj::str(kTlsRefused));
      });
}

// A dialled peer as the log names it: "node 'b' at 10.0.0.2:7100" (unix:PATH for a Unix socket).
PeerAddress dialled_address(const Peer& p) {
  const std::string where = host_port_text(p.address->first, p.address->second);
  if (p.seed) return {"the seed at " + where, where, {}, where};
  return {"node '" + p.name + "' at " + where, where, p.name, where};
}

}  // namespace

void Dialler::flush(Peer& p) {
  if (p.connection != nullptr) {
    p.connection->write_pending();
  } else if (!p.dial.dialing && !p.dial.scheduled) {
    dial_after_backoff(p);
  }
}

bool Dialler::dialing(const Peer& p) const noexcept { return p.dial.dialing; }

void Dialler::dial_ended(Peer& p) noexcept { p.dial.dialing = false; }

void Dialler::back_off(Peer& p) {
  DialState& d = p.dial;
  d.backoff = d.backoff == 0 * kj::SECONDS ? kFirstBackoff : kj::min(d.backoff * 2, kMaxBackoff);
  d.next_dial = node_.loop().timer().now() + d.backoff;
}

void Dialler::reset_backoff(Peer& p) noexcept { p.dial.backoff = 0 * kj::SECONDS; }

void Dialler::retry_at_once(Peer& p) noexcept {
  p.dial.backoff = 0 * kj::SECONDS;
  p.dial.next_dial = kj::origin<kj::TimePoint>();
}

void Dialler::dial_after_backoff(Peer& p) {
  kj::Timer& timer = node_.loop().timer();
  if (timer.now() >= p.dial.next_dial) {
    dial(p);
    return;
  }
  p.dial.scheduled = true;
  node_.loop().tasks().add(timer.atTime(p.dial.next_dial).then([this, &p]() {
    p.dial.scheduled = false;
    if (p.connection == nullptr && !p.dial.dialing) dial(p);
  }));
}

void Dialler::dial(Peer& p) {
  if (!p.address) {
    node_.dead_letters().unreachable(p, "no address for node '" + p.name + "'");
    return;
  }
  p.dial.dialing = true;
  const PeerAddress to = dialled_address(p);
  // This node's address on the connection, read from the plain socket (a TLS stream cannot say).
  auto local_host = kj::heap<std::string>();
  std::string& local = *local_host;
  auto connected = node_.loop()
                       .io()
                       .getNetwork()
                       .parseAddress(kj::StringPtr(p.address->first.c_str()), p.address->second)
                       .then([](kj::Own<kj::NetworkAddress> address) { return address->connect(); })
                       .then([&local](kj::Own<kj::AsyncIoStream> plain) {
                         local = local_host_of(*plain);
                         return plain;
                       });
  if (NodeTls* tls = node_.tls()) {
    connected = connected.then([this, tls, &p, to](kj::Own<kj::AsyncIoStream> plain) {
      return secure_dialled(node_, *tls, p, to, kj::mv(plain));
    });
  }
  node_.loop().tasks().add(kj::mv(connected).then(
      [this, &p, to, local_host = kj::mv(local_host)](kj::Own<kj::AsyncIoStream> stream) mutable {
        node_.connections().serve(kj::heap<Connection>(node_, kj::mv(stream), &p, kj::mv(*local_host), to));
      },
      [this, &p](kj::Exception&& e) {
        const bool refused_by_tls = e.getDescription() == kTlsRefused;  // secure_dialled logged it
        const std::string who = p.seed ? p.name : "node '" + p.name + "'";
        if (!refused_by_tls && node_.log().enabled(LogLevel::warning)) {
          const std::string why = e.getDescription().cStr();
          node_.log().log({.level = LogLevel::warning,
                           .name = "connect_failed",
                           .message = "cannot connect to " + who + ": " + why,
                           .peer = p.name,
                           .reason = why});
        }
        p.dial.dialing = false;
        back_off(p);
        node_.dead_letters().unreachable(p, refused_by_tls ? who + " refused the TLS handshake"
                                                           : "cannot connect to " + who);
      }));
}

}  // namespace troupe::transport::detail
