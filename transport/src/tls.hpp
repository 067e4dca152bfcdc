// A node's TLS (kj-tls over OpenSSL): the context built once from NodeConfig::tls, and the
// wrapping of each accepted or dialled stream before the Connection's HMAC handshake runs inside it.
//
// Trust: only the configured CA (the system trust store is off). Both sides present a
// certificate and both verify the other's chain against that CA. Names: the dialer checks that
// the listener's certificate names the node it dialled (a subjectAltName DNS entry, or else the
// common name, equal to the node name, as in HTTPS); the listener checks the dialer's chain only
// (the dialer's name is then proven by the HMAC handshake, which every node runs inside TLS).
#pragma once

#include <troupe/transport/node.hpp>

#include <kj/async-io.h>
#include <kj/compat/tls.h>

#include <string>
#include <vector>

namespace troupe::transport::detail {

class NodeTls {
 public:
  // Reads and parses the PEM files. Throws std::runtime_error naming the file that failed.
  explicit NodeTls(const TlsConfig& config);
  NodeTls(const NodeTls&) = delete;
  NodeTls& operator=(const NodeTls&) = delete;

  // Resolves to the encrypted stream once the TLS handshake succeeded and the dialer's
  // certificate chains to the CA; rejects otherwise (a plaintext or untrusted dialer).
  kj::Promise<kj::Own<kj::AsyncIoStream>> wrap_accepted(kj::Own<kj::AsyncIoStream> stream);
  // Likewise for a dialled stream; the listener's certificate must also name `peer_name`.
  kj::Promise<kj::Own<kj::AsyncIoStream>> wrap_dialled(kj::Own<kj::AsyncIoStream> stream, const std::string& peer_name);

 private:
  std::vector<kj::TlsCertificate> trusted_;
  kj::TlsKeypair keypair_;
  kj::Own<kj::TlsContext> context_;
};

}  // namespace troupe::transport::detail
