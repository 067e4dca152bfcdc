#include "tls.hpp"

#include <kj/debug.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace troupe::transport::detail {
namespace {

std::string read_pem(const std::string& path, const char* what) {
  if (path.empty()) throw std::runtime_error(std::string("troupe: TLS needs a ") + what + " file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string("troupe: cannot read the TLS ") + what + " file '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// kj's PEM parsers throw kj::Exception; the node's constructor reports std::runtime_error.
template <class Parse>
auto parse_pem(const std::string& path, const char* what, Parse parse) {
  const std::string pem = read_pem(path, what);
  try {
    return parse(kj::StringPtr(pem.c_str()));
  } catch (const kj::Exception& e) {
    throw std::runtime_error(std::string("troupe: the TLS ") + what + " file '" + path +
                             "' does not parse: " + e.getDescription().cStr());
  }
}

kj::TlsKeypair load_keypair(const TlsConfig& config) {
  auto key =
      parse_pem(config.private_key_file, "private key", [](kj::StringPtr pem) { return kj::TlsPrivateKey(pem); });
  auto chain = parse_pem(config.certificate_chain_file, "certificate chain",
                         [](kj::StringPtr pem) { return kj::TlsCertificate(pem); });
  return kj::TlsKeypair{kj::mv(key), kj::mv(chain)};
}

}  // namespace

NodeTls::NodeTls(const TlsConfig& config) : keypair_(load_keypair(config)) {
  trusted_.push_back(
      parse_pem(config.trusted_ca_file, "trusted CA", [](kj::StringPtr pem) { return kj::TlsCertificate(pem); }));
  kj::TlsContext::Options options;
  options.useSystemTrustStore = false;  // only the nodes' own CA vouches for a node
  options.verifyClients = true;         // the listener verifies the dialer too
  options.trustedCertificates = kj::arrayPtr(trusted_.data(), trusted_.size());
  options.defaultKeypair = keypair_;
  try {
    context_ = kj::heap<kj::TlsContext>(kj::mv(options));
  } catch (const kj::Exception& e) {
    // For example a private key that does not belong to the certificate.
    throw std::runtime_error(std::string("troupe: cannot set up TLS: ") + e.getDescription().cStr());
  }
}

kj::Promise<kj::Own<kj::AsyncIoStream>> NodeTls::wrap_accepted(kj::Own<kj::AsyncIoStream> stream) {
  return context_->wrapServer(kj::mv(stream));
}

kj::Promise<kj::Own<kj::AsyncIoStream>> NodeTls::wrap_dialled(kj::Own<kj::AsyncIoStream> stream,
                                                              const std::string& peer_name) {
  // kj sends the name as SNI and checks the listener's certificate against it.
  return context_->wrapClient(kj::mv(stream), kj::StringPtr(peer_name.c_str()));
}

}  // namespace troupe::transport::detail
