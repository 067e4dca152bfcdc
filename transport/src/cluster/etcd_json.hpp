// The JSON of etcd's v3 gateway (etcd 3.4): request bodies, and answers read into EtcdClient's
// types. Kept apart from the HTTP so that EtcdClient reads as the calls it makes.
//
// The gateway speaks proto3's JSON mapping: bytes (keys, values) are base64, int64 fields are JSON
// strings ("42"; numbers are read too), and fields at their default (0, false, "", the PUT event
// type) are left out, so a missing field reads as its default here.
//
// A decoder that meets an error object ({"error": ...}), text that is not JSON, or JSON without
// what the answer must hold throws a kj::Exception whose description says so in plain words;
// EtcdClient adds the endpoint and the operation.
#pragma once

#include "cluster/etcd_client.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::transport::detail::etcd_json {

// The key just past every key that starts with prefix: etcd's range_end for a prefix ("\0", all
// keys, for an empty prefix or one of 0xff bytes only).
std::string prefix_end(std::string_view prefix);

// -- request bodies -----------------------------------------------------------------------------
std::string put_request(std::string_view key, std::string_view value, std::int64_t lease);
std::string delete_request(std::string_view key);
std::string range_prefix_request(std::string_view prefix);
// Txn: if key's create_revision == 0 (no such key), put it.
std::string create_request(std::string_view key, std::string_view value, std::int64_t lease);
// Txn: if key's value == value, delete it.
std::string remove_if_value_request(std::string_view key, std::string_view value);
std::string lease_grant_request(std::int64_t ttl_seconds);
std::string lease_request(std::int64_t lease);  // {"ID": lease}: keepalive and revoke
std::string watch_request(std::string_view prefix, std::int64_t start_revision);

// -- answers ------------------------------------------------------------------------------------
// Throws unless text is a JSON object without an error.
void check_answer(std::string_view text);
// The error etcd's answer states (its "message" or "error"), or nullopt if text holds none or is
// not JSON: for an answer with an HTTP status other than 200.
std::optional<std::string> error_message(std::string_view text);
EtcdRange read_range(std::string_view text);
bool read_txn_succeeded(std::string_view text);
std::int64_t read_lease_granted(std::string_view text);  // the lease id
// A keepalive answers with a stream of {"result": {...}}; this reads the first one: the TTL left,
// 0 if the lease had expired.
std::int64_t read_keepalive_ttl(std::string_view text);
// One object of a watch stream: its events, none for the created and progress notifications.
// Throws if etcd cancelled the watch or sent an error.
std::vector<EtcdWatchEvent> read_watch_message(std::string_view line);

// Splits a stream of newline-delimited JSON objects (the gateway writes one object then "\n" per
// streamed message) into lines as bytes arrive, holding at most `limit` bytes of an unfinished
// line.
class JsonLines {
 public:
  explicit JsonLines(std::size_t limit) : limit_(limit) {}
  // Adds bytes; throws if the unfinished line would pass the limit.
  void append(const char* data, std::size_t size);
  // The next complete line without its "\n" (blank lines skipped), or nullopt if none is complete.
  std::optional<std::string> next();
  // Bytes of an unfinished line held (a stream that ends here ended mid-object).
  std::size_t pending() const noexcept { return buffer_.size() - start_; }
  // The unfinished line, taken out: at the stream's end, the last object if its "\n" never came.
  std::string take_rest();

 private:
  std::size_t limit_;
  std::string buffer_;
  std::size_t start_ = 0;            // where the lines not yet returned begin in buffer_
  std::size_t unfinished_from_ = 0;  // just past buffer_'s last "\n": the unfinished line
};

}  // namespace troupe::transport::detail::etcd_json
