// The handshake's cryptography: nonces and the HMAC-SHA256 proofs both sides exchange.
//
// Protocol version 2 (each line one frame):
//   dialer   -> listener  Hello{version, dialer name, dialer nonce}
//   listener -> dialer    Hello{version, listener name, listener nonce}            (no proof)
//   dialer   -> listener  Proof{HMAC(secret, "dialer" | both names | both nonces)}
//   listener -> dialer    Proof{HMAC(secret, "listener" | both names | both nonces)}
// then the incarnations (Connection::exchange_incarnations). The listener checks the dialer's
// proof in constant time and sends its own only if it matches: the side that anyone who reaches
// the port can talk to reveals nothing that depends on the secret until the other side has proven
// it knows it. (Version 1 had the listener's proof in its hello: anyone could take it and test
// guesses of the secret offline.) The dialer, which proves first, does reveal a proof over
// nonces a rogue listener chose: node.hpp says what that gives away and how TLS closes it.
// Each side checks the other's proof before it accepts any other frame. The role in the MAC
// stops a reflected proof; the fresh nonces stop a replayed one; the names stop a proof made for
// another pair of nodes. Each field enters the MAC with its length, so no two different inputs
// share an encoding.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace troupe::transport::detail {

using Nonce = std::array<std::uint8_t, 32>;
using Mac = std::array<std::uint8_t, 32>;

enum class Role : std::uint8_t { listener, dialer };

// 32 bytes from OpenSSL's CSPRNG; throws std::runtime_error if it has no entropy.
Nonce make_nonce();

Mac handshake_mac(std::string_view secret, Role prover, std::string_view dialer_name, std::string_view listener_name,
                  const Nonce& dialer_nonce, const Nonce& listener_nonce);

// Constant-time comparison of a received proof with the expected one (false on a length mismatch).
bool proof_matches(const Mac& expected, const std::uint8_t* received, std::size_t size) noexcept;

}  // namespace troupe::transport::detail
