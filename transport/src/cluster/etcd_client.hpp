// A small etcd v3 client for cluster membership: keys, leases and watches, over etcd's JSON
// gateway (grpc-gateway: HTTP/1.1 + JSON on the client port, paths /v3/...) with kj-http.
//
// Debian ships no C++ etcd client, and the gateway needs none: each call is one POST of a JSON
// body (etcd_json.hpp builds and reads them). The paths are those etcd 3.4 (Debian bookworm's
// etcd-server) serves; later versions serve them too.
//
// Threading: an EtcdClient lives on one thread and runs on that thread's kj event loop (the node's
// transport thread). It must outlive every promise it returned. Dropping a promise cancels its
// request (and closes its connection).
//
// Errors: every call rejects with a kj::Exception whose description says, in plain words, what
// failed, naming the endpoint and the operation:
//   "etcd at 127.0.0.1:2379: put /troupe/x failed: connection refused"
// (connection failures, an HTTP status other than 200, an error object from etcd, JSON that does
// not parse or lacks what the call needs, no answer within the request timeout).
#pragma once

#include <kj/async-io.h>
#include <kj/compat/http.h>
#include <kj/function.h>
#include <kj/timer.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::transport::detail {

struct EtcdKeyValue {
  std::string key;
  std::string value;  // any bytes, NUL included
  std::int64_t create_revision = 0;
  std::int64_t mod_revision = 0;
  std::int64_t lease = 0;  // 0: no lease
};

struct EtcdRange {
  std::vector<EtcdKeyValue> kvs;  // in key order
  std::int64_t revision = 0;      // the store's revision at the read: watch from revision + 1
};

struct EtcdWatchEvent {
  enum class Type { put, remove };
  Type type = Type::put;
  EtcdKeyValue kv;  // for a remove: the key and the mod_revision of the delete, no value
};

class EtcdClient {
 public:
  // The longest single object a watch stream may send (one JSON line: a batch of events). A longer
  // one fails the watch instead of growing its buffer without bound.
  static constexpr std::size_t kMaxWatchMessage = 4u << 20;
  // The longest answer to any other request (a get_prefix of many keys).
  static constexpr std::size_t kMaxResponse = 64u << 20;

  // endpoint: "host:port" of etcd's client URL (plain HTTP). request_timeout bounds every call but
  // watch_prefix, from the request to the whole answer.
  EtcdClient(kj::Timer& timer, kj::Network& network, std::string endpoint,
             kj::Duration request_timeout = 10 * kj::SECONDS);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  const std::string& endpoint() const noexcept { return endpoint_; }

  // A new lease of `ttl` (etcd raises a ttl below its minimum, about 2 s); resolves to its id.
  kj::Promise<std::int64_t> grant_lease(std::chrono::seconds ttl);
  // Renews the lease once; resolves to the TTL it has left in seconds, 0 when it had expired (or
  // was revoked): the keys it held are gone then.
  kj::Promise<std::int64_t> keep_alive(std::int64_t lease);
  // Ends the lease and deletes its keys. Rejects if etcd does not know the lease.
  kj::Promise<void> revoke(std::int64_t lease);

  // Sets key to value, attached to `lease` if not 0 (the key goes when the lease does).
  kj::Promise<void> put(std::string key, std::string value, std::int64_t lease = 0);
  // Puts only if the key does not exist (one transaction: create_revision == 0). Resolves to
  // false, changing nothing, if it exists.
  kj::Promise<bool> create(std::string key, std::string value, std::int64_t lease = 0);
  // Deletes the key only if its value is `value` (one transaction); false if it was not.
  kj::Promise<bool> remove_if_value(std::string key, std::string value);
  // Deletes the key (nothing happens if it does not exist).
  kj::Promise<void> remove(std::string key);
  // Every key that starts with prefix ("" for all), and the store's revision at the read.
  kj::Promise<EtcdRange> get_prefix(std::string prefix);

  // Streams the changes of keys under prefix to on_events, in revision order, one call per batch
  // etcd sends. start_revision is the first revision to report (etcd's meaning): 0 for changes
  // from now on, get_prefix's revision + 1 for exactly the changes after that read. The promise
  // never resolves: dropping it cancels the watch; it rejects when the stream fails (the
  // connection broke or etcd stopped, etcd cancelled the watch, e.g. because start_revision was
  // compacted away, or an object longer than kMaxWatchMessage). on_events runs on the event
  // loop; an exception from it fails the watch. It must not drop the watch's own promise (that
  // would free the watch while it runs): defer that, e.g. with kj::evalLater.
  kj::Promise<void> watch_prefix(std::string prefix, std::int64_t start_revision,
                                 kj::Function<void(std::vector<EtcdWatchEvent>)> on_events);

 private:
  // Sends a POST of the JSON body to path; resolves when the answer's status and headers came.
  kj::Promise<kj::HttpClient::Response> post(const char* path, std::string body);
  // POSTs body to path and reads the answer (HTTP 200, at most kMaxResponse bytes) with `read`,
  // within the request timeout; `operation` names the call in errors ("put /troupe/x").
  // Defined and used in etcd_client.cpp only.
  template <class Read>
  auto call(const char* path, std::string body, std::string operation, Read read)
      -> kj::Promise<decltype(read(std::string_view()))>;
  // The exception of a failed `operation`: "etcd at ENDPOINT: OPERATION failed: WHAT".
  kj::Exception failure(const std::string& operation, const kj::Exception& cause) const;

  kj::Timer& timer_;
  std::string endpoint_;
  std::string base_url_;  // "http://ENDPOINT"
  kj::Duration request_timeout_;
  kj::Own<kj::HttpHeaderTable> header_table_;
  kj::Own<kj::HttpClient> http_;
};

}  // namespace troupe::transport::detail
