// The deadline every handshake runs under (NodeConfig::handshake_timeout): the TLS handshake of an
// accepted or dialled stream, and the node's own hello/proof/incarnation exchange.
#pragma once

#include "kj_duration.hpp"

#include <troupe/transport/node.hpp>

#include <kj/async.h>
#include <kj/timer.h>

namespace troupe::transport::detail {

// The rejection handshake_deadline gives a handshake that took too long.
inline constexpr const char* kHandshakeTimedOut = "handshake timed out";
inline bool is_handshake_timeout(const kj::Exception& e) { return e.getDescription() == kHandshakeTimedOut; }

// `handshake`, or a rejection (is_handshake_timeout) once `timeout` passes. Not counted here: the
// caller's error handler refuses the connection, with that reason.
template <class T>
kj::Promise<T> handshake_deadline(kj::Timer& timer, Duration timeout, kj::Promise<T> handshake) {
  auto expired = timer.afterDelay(to_kj(timeout)).then([]() -> kj::Promise<T> {
    // Not KJ_EXCEPTION, which would describe the constant as "name = value".
    return kj::Exception(kj::Exception::Type::FAILED, __FILE__, __LINE__, kj::str(kHandshakeTimedOut));
  });
  return handshake.exclusiveJoin(kj::mv(expired));
}

}  // namespace troupe::transport::detail
