#include "handshake.hpp"

#include <troupe/transport/wire_type.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>
#include <string>

namespace troupe::transport::detail {
namespace {

// A field with its length, a little-endian u32, as the wire's lengths are (docs/wire.md).
void append_field(std::string& out, const void* data, std::size_t size) {
  const auto len = little_endian(static_cast<std::uint32_t>(size));
  out.append(reinterpret_cast<const char*>(&len), sizeof len);
  out.append(static_cast<const char*>(data), size);
}

}  // namespace

Nonce make_nonce() {
  Nonce n{};
  if (RAND_bytes(n.data(), static_cast<int>(n.size())) != 1)
    throw std::runtime_error("troupe: no random bytes for a nonce");
  return n;
}

Mac handshake_mac(std::string_view secret, Role prover, std::string_view dialer_name, std::string_view listener_name,
                  const Nonce& dialer_nonce, const Nonce& listener_nonce) {
  std::string input;
  const std::string_view label =
      prover == Role::listener ? "troupe-handshake-v2 listener" : "troupe-handshake-v2 dialer";
  append_field(input, label.data(), label.size());
  append_field(input, dialer_name.data(), dialer_name.size());
  append_field(input, listener_name.data(), listener_name.size());
  append_field(input, dialer_nonce.data(), dialer_nonce.size());
  append_field(input, listener_nonce.data(), listener_nonce.size());
  Mac mac{};
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac.data(), &size) == nullptr ||
      size != mac.size()) {
    throw std::runtime_error("troupe: HMAC-SHA256 failed");
  }
  return mac;
}

bool proof_matches(const Mac& expected, const std::uint8_t* received, std::size_t size) noexcept {
  if (size != expected.size()) return false;
  return CRYPTO_memcmp(expected.data(), received, size) == 0;
}

}  // namespace troupe::transport::detail
