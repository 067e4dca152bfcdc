// Why a connection was refused before authentication, in a few plain causes: the one place for
// them and their names. NodeLog::refuse counts each refusal under its cause (NodeCounters), and
// the node's metrics report the counts (MetricsSnapshot::nodes, NodeMetrics::refusals); the log
// line still says the particulars in words.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace troupe::transport::detail {

enum class RefusalCause : std::uint8_t {
  bad_hmac,   // its proof of the cluster secret did not match
  version,    // it speaks another protocol version
  tls,        // the TLS handshake failed (a plaintext peer, an untrusted or misnamed certificate)
  name,       // its name: none, this node's own, a live node's, not the node dialled
  timeout,    // it did not finish a handshake (TLS or troupe's) in NodeConfig::handshake_timeout
  malformed,  // a frame that is not the handshake's, or not one at all
  closed,     // it closed the connection during the handshake (after this node's proof: another secret?)
  busy,       // NodeConfig::max_handshakes connections were in their handshakes already
};
inline constexpr std::size_t kRefusalCauses = 8;

inline constexpr std::array<std::string_view, kRefusalCauses> kRefusalCauseNames = {
    "bad_hmac", "version", "tls", "name", "timeout", "malformed", "closed", "busy"};

constexpr std::string_view refusal_cause_name(RefusalCause cause) noexcept {
  return kRefusalCauseNames[static_cast<std::size_t>(cause)];
}

}  // namespace troupe::transport::detail
