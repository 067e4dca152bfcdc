#include "cluster/etcd_client.hpp"

#include "cluster/etcd_json.hpp"
#include "plain_failure.hpp"

#include <kj/array.h>
#include <kj/exception.h>

#include <cstdio>
#include <string_view>
#include <utility>

namespace troupe::transport::detail {
namespace {

// How much of a watch stream one read takes.
constexpr std::size_t kWatchReadSize = 64u << 10;
// How much of the body of an answer with an HTTP error status is read, for its message.
constexpr std::size_t kErrorBodyLimit = 64u << 10;

// A key as errors show it: printable ASCII as it is, other bytes as \xNN.
std::string printable(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (const char c : key) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
      out += c;
    } else {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    }
  }
  return out;
}

// What went wrong, in plain words: kj's descriptions of the usual connection failures name the
// system call and errno; keep those to the cause.
std::string plain_words(const kj::Exception& e) {
  const std::string_view d(e.getDescription().cStr());
  const auto has = [d](std::string_view what) { return d.find(what) != std::string_view::npos; };
  if (has("ECONNREFUSED") || has("Connection refused")) return "connection refused";
  if (has("ECONNRESET") || has("Connection reset")) return "the connection was reset";
  if (has("EHOSTUNREACH") || has("ENETUNREACH")) return "the host cannot be reached";
  if (has("ETIMEDOUT")) return "the connection timed out";
  if (has("disconnected prematurely") || has("premature EOF")) return "the connection closed early";
  return std::string(d);
}

// The message of an answer whose HTTP status is not 200: "HTTP 404 Not Found: etcdserver:
// requested lease not found" (the error etcd states in its body, if it has one).
kj::Promise<void> fail_http_status(kj::HttpClient::Response& response) {
  std::string status = "HTTP " + std::to_string(response.statusCode) + " " + response.statusText.cStr();
  return response.body->readAllText(kErrorBodyLimit)
      .then(
          [status](kj::String text) mutable -> kj::Promise<void> {
            if (auto error = etcd_json::error_message(std::string_view(text.cStr(), text.size()))) {
              status += ": " + *error;
            }
            fail_plainly(status);
          },
          [status](kj::Exception&&) -> kj::Promise<void> { fail_plainly(status); });  // the status says enough
}

// The whole answer, at most kMaxResponse bytes of it.
kj::Promise<kj::String> read_bounded(kj::AsyncInputStream& body) {
  const std::uint64_t limit = EtcdClient::kMaxResponse;
  // readAllText rejects an answer that has not ended within `limit` bytes ("Reached limit before
  // EOF"); one byte more lets an answer of exactly the limit through.
  return body.readAllText(limit + 1).catch_([limit](kj::Exception&& e) -> kj::Promise<kj::String> {
    if (std::string_view(e.getDescription().cStr()).find("limit before EOF") != std::string_view::npos) {
      fail_plainly("etcd's answer is longer than the limit of " + std::to_string(limit) + " bytes");
    }
    return kj::mv(e);
  });
}

// The promise, or a rejection if it has not resolved within `limit`.
template <class T>
kj::Promise<T> within(kj::Timer& timer, kj::Duration limit, kj::Promise<T> promise) {
  return promise.exclusiveJoin(timer.afterDelay(limit).then([limit]() -> kj::Promise<T> {
    fail_plainly("no answer within " + std::to_string(limit / kj::MILLISECONDS) + " ms");
  }));
}

// A watch's stream and what reads it; lives as long as the watch's promise.
struct WatchStream {
  WatchStream(kj::Own<kj::AsyncInputStream> body, kj::Function<void(std::vector<EtcdWatchEvent>)> on_events)
      : body(kj::mv(body)), on_events(kj::mv(on_events)) {}
  kj::Own<kj::AsyncInputStream> body;
  kj::Function<void(std::vector<EtcdWatchEvent>)> on_events;
  etcd_json::JsonLines lines{EtcdClient::kMaxWatchMessage};
  kj::Array<char> buffer = kj::heapArray<char>(kWatchReadSize);
};

// The end of a watch stream, which should last: why it ended. The gateway ends a stream it fails
// with an error object and no "\n" ("grpc: the client connection is closing" when etcd stops).
[[noreturn]] void watch_ended(WatchStream& w) {
  const std::string rest = w.lines.take_rest();
  if (rest.find_first_not_of(" \t\r\n") == std::string::npos) {
    fail_plainly("the watch stream ended (etcd stopped, or the connection closed)");
  }
  std::vector<EtcdWatchEvent> events;
  try {
    events = etcd_json::read_watch_message(rest);
  } catch (const kj::Exception& e) {
    fail_plainly(std::string("the watch stream ended: ") + e.getDescription().cStr());
  }
  if (!events.empty()) w.on_events(std::move(events));
  fail_plainly("the watch stream ended (etcd stopped, or the connection closed)");
}

// Reads the stream until it fails: each complete line is one message, handed on in order.
kj::Promise<void> read_watch(WatchStream& w) {
  return w.body->tryRead(w.buffer.begin(), 1, w.buffer.size())
      .then(
          [&w](std::size_t n) -> kj::Promise<void> {
            if (n == 0) watch_ended(w);
            w.lines.append(w.buffer.begin(), n);
            while (auto line = w.lines.next()) {
              auto events = etcd_json::read_watch_message(*line);
              if (!events.empty()) w.on_events(std::move(events));
            }
            return read_watch(w);
          },
          [](kj::Exception&& e) -> kj::Promise<void> {  // the read failed, not what the stream held
            fail_plainly("the watch stream ended: " + plain_words(e));
          });
}

}  // namespace

EtcdClient::EtcdClient(kj::Timer& timer, kj::Network& network, std::string endpoint, kj::Duration request_timeout)
    : timer_(timer),
      endpoint_(std::move(endpoint)),
      base_url_("http://" + endpoint_),
      request_timeout_(request_timeout),
      header_table_(kj::heap<kj::HttpHeaderTable>()),
      http_(kj::newHttpClient(timer, *header_table_, network, nullptr)) {}

EtcdClient::~EtcdClient() = default;

kj::Exception EtcdClient::failure(const std::string& operation, const kj::Exception& cause) const {
  return kj::Exception(
      cause.getType(), __FILE__, __LINE__,
      kj::str("etcd at ", endpoint_.c_str(), ": ", operation.c_str(), " failed: ", plain_words(cause).c_str()));
}

kj::Promise<kj::HttpClient::Response> EtcdClient::post(const char* path, std::string body) {
  kj::HttpHeaders headers(*header_table_);
  headers.set(kj::HttpHeaderId::CONTENT_TYPE, "application/json");
  const std::string url = base_url_ + path;
  auto request = http_->request(kj::HttpMethod::POST, url.c_str(), headers, body.size());
  auto owned = kj::heap<std::string>(std::move(body));
  auto written = request.body->write(owned->data(), owned->size()).attach(kj::mv(owned));
  // The request's body ends when its stream is dropped; then the answer can come.
  return written.then([stream = kj::mv(request.body),
                       response = kj::mv(request.response)]() mutable -> kj::Promise<kj::HttpClient::Response> {
    stream = nullptr;
    return kj::mv(response);
  });
}

template <class Read>
auto EtcdClient::call(const char* path, std::string body, std::string operation, Read read)
    -> kj::Promise<decltype(read(std::string_view()))> {
  using T = decltype(read(std::string_view()));
  auto answer = post(path, std::move(body))
                    .then([](kj::HttpClient::Response&& response) -> kj::Promise<kj::String> {
                      if (response.statusCode != 200) {
                        return fail_http_status(response).attach(kj::mv(response.body)).then([]() {
                          return kj::String();  // not reached: fail_http_status always rejects
                        });
                      }
                      return read_bounded(*response.body).attach(kj::mv(response.body));
                    })
                    .then([read = std::move(read)](kj::String text) mutable -> T {
                      return read(std::string_view(text.cStr(), text.size()));
                    });
  return within(timer_, request_timeout_, kj::mv(answer))
      .catch_([this, operation = std::move(operation)](kj::Exception&& e) -> kj::Promise<T> {
        return kj::Promise<T>(failure(operation, e));
      });
}

kj::Promise<std::int64_t> EtcdClient::grant_lease(std::chrono::seconds ttl) {
  return call("/v3/lease/grant", etcd_json::lease_grant_request(ttl.count()),
              "grant a lease of " + std::to_string(ttl.count()) + " s", etcd_json::read_lease_granted);
}

kj::Promise<std::int64_t> EtcdClient::keep_alive(std::int64_t lease) {
  // The gateway answers a keepalive with a stream of one message: it ends once etcd has read the
  // request's end.
  return call("/v3/lease/keepalive", etcd_json::lease_request(lease), "keep lease " + std::to_string(lease) + " alive",
              etcd_json::read_keepalive_ttl);
}

kj::Promise<void> EtcdClient::revoke(std::int64_t lease) {
  return call("/v3/lease/revoke", etcd_json::lease_request(lease), "revoke lease " + std::to_string(lease),
              etcd_json::check_answer);
}

kj::Promise<void> EtcdClient::put(std::string key, std::string value, std::int64_t lease) {
  return call("/v3/kv/put", etcd_json::put_request(key, value, lease), "put " + printable(key),
              etcd_json::check_answer);
}

kj::Promise<bool> EtcdClient::create(std::string key, std::string value, std::int64_t lease) {
  return call("/v3/kv/txn", etcd_json::create_request(key, value, lease), "create " + printable(key),
              etcd_json::read_txn_succeeded);
}

kj::Promise<bool> EtcdClient::remove_if_value(std::string key, std::string value) {
  return call("/v3/kv/txn", etcd_json::remove_if_value_request(key, value), "remove (if its value) " + printable(key),
              etcd_json::read_txn_succeeded);
}

kj::Promise<void> EtcdClient::remove(std::string key) {
  return call("/v3/kv/deleterange", etcd_json::delete_request(key), "remove " + printable(key),
              etcd_json::check_answer);
}

kj::Promise<EtcdRange> EtcdClient::get_prefix(std::string prefix) {
  return call("/v3/kv/range", etcd_json::range_prefix_request(prefix), "get prefix " + printable(prefix),
              etcd_json::read_range);
}

kj::Promise<void> EtcdClient::watch_prefix(std::string prefix, std::int64_t start_revision,
                                           kj::Function<void(std::vector<EtcdWatchEvent>)> on_events) {
  std::string operation = "watch prefix " + printable(prefix);
  // Only the start is bounded by the request timeout: the stream itself lasts.
  auto started = post("/v3/watch", etcd_json::watch_request(prefix, start_revision))
                     .then([](kj::HttpClient::Response&& response) -> kj::Promise<kj::Own<kj::AsyncInputStream>> {
                       if (response.statusCode != 200) {
                         return fail_http_status(response).attach(kj::mv(response.body)).then([]() {
                           return kj::Own<kj::AsyncInputStream>();  // not reached: it always rejects
                         });
                       }
                       return kj::mv(response.body);
                     });
  return within(timer_, request_timeout_, kj::mv(started))
      .then([on_events = kj::mv(on_events)](kj::Own<kj::AsyncInputStream> body) mutable {
        auto stream = kj::heap<WatchStream>(kj::mv(body), kj::mv(on_events));
        auto& w = *stream;
        return read_watch(w).attach(kj::mv(stream));
      })
      .catch_([this, operation = std::move(operation)](kj::Exception&& e) -> kj::Promise<void> {
        return failure(operation, e);
      });
}

}  // namespace troupe::transport::detail
