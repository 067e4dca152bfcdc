// EtcdClient against a fake gateway (a kj-http server in the test) that answers what a real etcd
// would not: text that is not JSON, error objects, HTTP errors, silence, a watch object over the
// limit, and the stream messages EtcdClient must skip (created, progress) or fail on (cancelled).
#include "cluster/etcd_client.hpp"

#include <doctest/doctest.h>

#include <kj/async-io.h>
#include <kj/compat/http.h>

#include <functional>
#include <string>
#include <vector>

namespace {

using troupe::transport::detail::EtcdClient;
using troupe::transport::detail::EtcdWatchEvent;

// Only bounds a failing test.
constexpr kj::Duration kWait = 60 * kj::SECONDS;

// Answers each POST with `answer(path, response)`, on the test's event loop.
class FakeGateway final : public kj::HttpService {
 public:
  using Answer = std::function<kj::Promise<void>(const std::string& path, kj::HttpService::Response&)>;

  FakeGateway(kj::AsyncIoContext& io, Answer answer) : answer_(std::move(answer)) {
    listener_ = io.provider->getNetwork().parseAddress("127.0.0.1", 0).wait(io.waitScope)->listen();
    endpoint_ = "127.0.0.1:" + std::to_string(listener_->getPort());
    server_ = kj::heap<kj::HttpServer>(io.provider->getTimer(), table_, *this);
    listening_ = server_->listenHttp(*listener_).eagerlyEvaluate(nullptr);
  }

  const std::string& endpoint() const { return endpoint_; }
  const kj::HttpHeaderTable& table() const { return table_; }

  kj::Promise<void> request(kj::HttpMethod, kj::StringPtr url, const kj::HttpHeaders&, kj::AsyncInputStream& body,
                            kj::HttpService::Response& response) override {
    std::string path(url.cStr());  // url is only valid until the body is read
    return body.readAllText().then([this, path, &response](kj::String) { return answer_(path, response); });
  }

 private:
  Answer answer_;
  kj::HttpHeaderTable table_;
  kj::Own<kj::ConnectionReceiver> listener_;
  std::string endpoint_;
  kj::Own<kj::HttpServer> server_;
  kj::Promise<void> listening_ = nullptr;
};

// Sends status and the whole body.
kj::Promise<void> reply(FakeGateway& gateway, kj::HttpService::Response& response, unsigned status, std::string body) {
  kj::HttpHeaders headers(gateway.table());
  auto stream = response.send(status, status == 200 ? "OK" : "Service Unavailable", headers, body.size());
  auto owned = kj::heap<std::string>(std::move(body));
  auto& text = *owned;
  return stream->write(text.data(), text.size()).attach(kj::mv(stream), kj::mv(owned));
}

// Starts a streamed answer (chunked, as the gateway's) and writes `parts` in order, then keeps
// the stream open.
kj::Promise<void> stream(FakeGateway& gateway, kj::HttpService::Response& response, std::vector<std::string> parts) {
  kj::HttpHeaders headers(gateway.table());
  auto out = response.send(200, "OK", headers);
  auto owned = kj::heap<std::vector<std::string>>(std::move(parts));
  kj::Promise<void> written = kj::READY_NOW;
  for (auto& part : *owned) {
    written = written.then([&out = *out, &part] { return out.write(part.data(), part.size()); });
  }
  return written.then([] { return kj::Promise<void>(kj::NEVER_DONE); }).attach(kj::mv(out), kj::mv(owned));
}

struct Setup {
  kj::AsyncIoContext io = kj::setupAsyncIo();
  FakeGateway gateway;
  EtcdClient client;
  explicit Setup(FakeGateway::Answer answer, kj::Duration timeout = 10 * kj::SECONDS)
      : gateway(io, std::move(answer)),
        client(io.provider->getTimer(), io.provider->getNetwork(), gateway.endpoint(), timeout) {}

  template <class T>
  std::string failure(kj::Promise<T> promise) {
    try {
      io.provider->getTimer().timeoutAfter(kWait, kj::mv(promise)).wait(io.waitScope);
    } catch (const kj::Exception& e) {
      return e.getDescription().cStr();
    }
    return "";
  }
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

const std::string kCreated = R"({"result":{"header":{"revision":"7"},"created":true}})"
                             "\n";

}  // namespace

TEST_CASE("an answer that is not JSON fails the call, saying so") {
  Setup s([&](const std::string&, auto& response) { return reply(s.gateway, response, 200, "<html>oops</html>"); });
  const std::string error = s.failure(s.client.put("/k", "v"));
  INFO(error);
  CHECK(contains(error, "etcd at " + s.gateway.endpoint() + ": put /k failed: etcd's answer is not a JSON object"));
}

TEST_CASE("an error object in the answer fails the call with etcd's message") {
  Setup s([&](const std::string&, auto& response) {
    return reply(s.gateway, response, 200, R"({"error":"etcdserver: too many requests","code":8})");
  });
  const std::string error = s.failure(s.client.get_prefix("/p/"));
  INFO(error);
  CHECK(contains(error, "get prefix /p/ failed: etcd answered with an error: etcdserver: too many requests"));
}

TEST_CASE("an HTTP error status fails the call, naming the status") {
  Setup s([&](const std::string&, auto& response) { return reply(s.gateway, response, 503, "not now"); });
  const std::string error = s.failure(s.client.grant_lease(std::chrono::seconds(5)));
  INFO(error);
  CHECK(contains(error, "grant a lease of 5 s failed: HTTP 503 Service Unavailable"));
}

TEST_CASE("an answer that lacks what the call needs fails it") {
  Setup s([&](const std::string&, auto& response) {
    return reply(s.gateway, response, 200, R"({"header":{"revision":"seven"}})");
  });
  CHECK(contains(s.failure(s.client.get_prefix("/p/")), "get prefix /p/ failed: etcd's answer has a field revision"));
  CHECK(contains(s.failure(s.client.grant_lease(std::chrono::seconds(5))), "has no lease ID"));
}

TEST_CASE("a call with no answer within the request timeout fails") {
  Setup s([](const std::string&, auto&) { return kj::Promise<void>(kj::NEVER_DONE); }, 200 * kj::MILLISECONDS);
  const std::string error = s.failure(s.client.remove("/k"));
  INFO(error);
  CHECK(contains(error, "remove /k failed: no answer within 200 ms"));
}

TEST_CASE("a watch skips created and progress messages and hands on events in order") {
  std::vector<std::string> parts{
      kCreated,
      R"({"result":{"header":{"revision":"8"}}})"
      "\n",  // progress
      // one message split over two writes, as a stream may arrive
      R"({"result":{"header":{"revision":"9"},"events":[{"kv":{"key":"L3AvYQ==","value":"MQ==",)",
      R"("create_revision":"8","mod_revision":"8"}},{"type":"DELETE","kv":{"key":"L3AvYg==","mod_revision":"9"}}]}})"
      "\n"};
  Setup s([&](const std::string& path, auto& response) {
    CHECK(path == "/v3/watch");
    return stream(s.gateway, response, parts);
  });
  std::vector<std::vector<EtcdWatchEvent>> batches;
  auto paf = kj::newPromiseAndFulfiller<void>();
  auto watch = s.client.watch_prefix("/p/", 8, [&](std::vector<EtcdWatchEvent> batch) {
    batches.push_back(std::move(batch));
    paf.fulfiller->fulfill();
  });
  CHECK(s.failure(watch.exclusiveJoin(kj::mv(paf.promise))).empty());
  REQUIRE(batches.size() == 1);
  REQUIRE(batches[0].size() == 2);
  CHECK(batches[0][0].type == EtcdWatchEvent::Type::put);
  CHECK(batches[0][0].kv.key == "/p/a");
  CHECK(batches[0][0].kv.value == "1");
  CHECK(batches[0][0].kv.mod_revision == 8);
  CHECK(batches[0][1].type == EtcdWatchEvent::Type::remove);
  CHECK(batches[0][1].kv.key == "/p/b");
  CHECK(batches[0][1].kv.mod_revision == 9);
}

TEST_CASE("a watch fails when etcd cancels it") {
  std::vector<std::string> parts{
      kCreated, R"({"result":{"canceled":true,"cancel_reason":"mvcc: required revision has been compacted",)"
                R"("compact_revision":"5"}})"
                "\n"};
  Setup s([&](const std::string&, auto& response) { return stream(s.gateway, response, parts); });
  const std::string error = s.failure(s.client.watch_prefix("/p/", 2, [](auto) {}));
  INFO(error);
  CHECK(
      contains(error, "watch prefix /p/ failed: etcd cancelled the watch: mvcc: required revision has been compacted"));
  CHECK(contains(error, "the oldest kept is 5"));
}

TEST_CASE("a watch object longer than the limit fails the watch; one within it does not") {
  const std::size_t limit = EtcdClient::kMaxWatchMessage;
  // An event whose line is just within the limit, then an object that never ends.
  const std::string head = R"({"result":{"events":[{"kv":{"key":"L3AvYQ==","value":")";
  const std::string tail = R"("}}]}})";
  // "QUFB" is base64 of "AAA"; the line (with its "\n" left out) ends up 0 to 3 bytes short of the limit.
  std::string value;
  while (value.size() + 4 <= limit - head.size() - tail.size()) value += "QUFB";
  const std::string big = head + value + tail + "\n";
  std::vector<std::string> parts{kCreated, big, "{\"result\":{" + std::string(limit, ' ')};
  Setup s([&](const std::string&, auto& response) { return stream(s.gateway, response, parts); });
  std::size_t seen = 0;
  const std::string error = s.failure(s.client.watch_prefix("/p/", 0, [&](std::vector<EtcdWatchEvent> batch) {
    seen += batch.size();
    CHECK(batch[0].kv.value.size() == value.size() / 4 * 3);
  }));
  INFO(error);
  CHECK(seen == 1);
  CHECK(contains(error, "watch prefix /p/ failed: a streamed object is longer than the limit of " +
                            std::to_string(limit) + " bytes"));
}
