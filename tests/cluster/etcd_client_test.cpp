// EtcdClient (transport/src/cluster/) against a real etcd: keys, transactions, leases, watches,
// and its errors. Each test starts its own etcd (cluster/etcd_server.hpp) and runs its own kj
// event loop; every wait is bounded (kWait) only so that a failing test ends.
#include "cluster/etcd_client.hpp"
#include "cluster/etcd_server.hpp"

#include <doctest/doctest.h>

#include <kj/async-io.h>

#include <functional>
#include <string>
#include <vector>

namespace {

using troupe::transport::detail::EtcdClient;
using troupe::transport::detail::EtcdRange;
using troupe::transport::detail::EtcdWatchEvent;

// Only bounds a failing test: a lease of 1 s (etcd makes it 2 s) expires well within it.
constexpr kj::Duration kWait = 60 * kj::SECONDS;

struct Loop {
  kj::AsyncIoContext io = kj::setupAsyncIo();
  kj::Timer& timer() { return io.provider->getTimer(); }
  kj::Network& network() { return io.provider->getNetwork(); }

  template <class T>
  T wait(kj::Promise<T> promise) {
    return timer().timeoutAfter(kWait, kj::mv(promise)).wait(io.waitScope);
  }
  // The description of the promise's rejection, or "" if it resolved.
  template <class T>
  std::string failure(kj::Promise<T> promise) {
    try {
      wait(kj::mv(promise));
    } catch (const kj::Exception& e) {
      return e.getDescription().cStr();
    }
    return "";
  }
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A watch whose events are kept: `watch` is the watch itself (forked: add branches to wait on
// it), and `reached` resolves once `done` holds for the events so far.
struct Watcher {
  std::vector<EtcdWatchEvent> events;
  std::function<bool(const std::vector<EtcdWatchEvent>&)> done;
  kj::Own<kj::PromiseFulfiller<void>> fulfiller;
  kj::Promise<void> reached = nullptr;
  kj::ForkedPromise<void> watch = nullptr;

  Watcher(EtcdClient& client, std::string prefix, std::int64_t start_revision,
          std::function<bool(const std::vector<EtcdWatchEvent>&)> until)
      : done(std::move(until)) {
    auto paf = kj::newPromiseAndFulfiller<void>();
    fulfiller = kj::mv(paf.fulfiller);
    reached = kj::mv(paf.promise);
    watch = client
                .watch_prefix(std::move(prefix), start_revision,
                              [this](std::vector<EtcdWatchEvent> batch) {
                                for (auto& e : batch) events.push_back(std::move(e));
                                if (fulfiller->isWaiting() && done(events)) fulfiller->fulfill();
                              })
                .fork();
  }
  // Resolves once `done` holds; rejects if the watch fails first.
  kj::Promise<void> until_done() { return watch.addBranch().exclusiveJoin(kj::mv(reached)); }
};

// Puts key every 20 ms, for ever: for a watch from now, which sees only the puts after etcd set
// it up, and no event says when that was.
kj::Promise<void> keep_putting(Loop& loop, EtcdClient& client, std::string key, int n = 0) {
  return client.put(key, std::to_string(n)).then([&loop, &client, key, n] {
    return loop.timer().afterDelay(20 * kj::MILLISECONDS).then([&loop, &client, key, n] {
      return keep_putting(loop, client, key, n + 1);
    });
  });
}

bool saw_remove_of(const std::vector<EtcdWatchEvent>& events, const std::string& key) {
  for (const auto& e : events) {
    if (e.type == EtcdWatchEvent::Type::remove && e.kv.key == key) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("put then get_prefix returns the keys under the prefix, values byte for byte") {
  cluster_test::EtcdServer etcd;
  Loop loop;
  EtcdClient client(loop.timer(), loop.network(), etcd.endpoint());
  const std::string binary("a\0b\xff\n\"z", 7);
  loop.wait(client.put("/t/b", "second"));
  loop.wait(client.put("/t/a", binary));
  loop.wait(client.put("/t/", "the prefix itself"));
  loop.wait(client.put("/u/a", "another prefix"));
  loop.wait(client.put("/t", "shorter than the prefix"));

  const EtcdRange range = loop.wait(client.get_prefix("/t/"));
  REQUIRE(range.kvs.size() == 3);
  CHECK(range.kvs[0].key == "/t/");
  CHECK(range.kvs[1].key == "/t/a");
  CHECK(range.kvs[1].value == binary);
  CHECK(range.kvs[1].value.size() == 7);
  CHECK(range.kvs[2].key == "/t/b");
  CHECK(range.kvs[2].value == "second");
  CHECK(range.kvs[2].create_revision > 0);
  CHECK(range.kvs[2].create_revision == range.kvs[2].mod_revision);
  CHECK(range.revision >= range.kvs[1].mod_revision);
  CHECK(loop.wait(client.get_prefix("")).kvs.size() == 5);  // "": every key

  loop.wait(client.remove("/t/a"));
  loop.wait(client.remove("/t/none"));  // nothing to remove: no error
  CHECK(loop.wait(client.get_prefix("/t/")).kvs.size() == 2);
}

TEST_CASE("create puts a key only if it does not exist") {
  cluster_test::EtcdServer etcd;
  Loop loop;
  EtcdClient client(loop.timer(), loop.network(), etcd.endpoint());
  CHECK(loop.wait(client.create("/names/x", "first")));
  CHECK_FALSE(loop.wait(client.create("/names/x", "second")));
  const EtcdRange range = loop.wait(client.get_prefix("/names/x"));
  REQUIRE(range.kvs.size() == 1);
  CHECK(range.kvs[0].value == "first");
}

TEST_CASE("remove_if_value removes a key only if its value matches") {
  cluster_test::EtcdServer etcd;
  Loop loop;
  EtcdClient client(loop.timer(), loop.network(), etcd.endpoint());
  loop.wait(client.put("/names/y", "mine"));
  CHECK_FALSE(loop.wait(client.remove_if_value("/names/y", "yours")));
  CHECK(loop.wait(client.get_prefix("/names/y")).kvs.size() == 1);
  CHECK(loop.wait(client.remove_if_value("/names/y", "mine")));
  CHECK(loop.wait(client.get_prefix("/names/y")).kvs.empty());
}

TEST_CASE("a key put with a lease goes when the lease is revoked") {
  cluster_test::EtcdServer etcd;
  Loop loop;
  EtcdClient client(loop.timer(), loop.network(), etcd.endpoint());
  const std::int64_t lease = loop.wait(client.grant_lease(std::chrono::seconds(60)));
  CHECK(lease != 0);
  loop.wait(client.put("/members/a", "up", lease));
  CHECK(loop.wait(client.create("/members/b", "up", lease)));
  const EtcdRange before = loop.wait(client.get_prefix("/members/"));
  REQUIRE(before.kvs.size() == 2);
  CHECK(before.kvs[0].lease == lease);
  CHECK(before.kvs[1].lease == lease);

  const std::int64_t ttl = loop.wait(client.keep_alive(lease));
  CHECK(ttl > 0);
  CHECK(ttl <= 60);

  loop.wait(client.revoke(lease));
  CHECK(loop.wait(client.get_prefix("/members/")).kvs.empty());
  CHECK(loop.wait(client.keep_alive(lease)) == 0);  // gone: nothing to keep alive
  // etcd's error object, through an HTTP error status.
  const std::string error = loop.failure(client.revoke(lease));
  CHECK(contains(error, "revoke lease " + std::to_string(lease) + " failed"));
  CHECK(contains(error, "lease not found"));
}

TEST_CASE("a lease that is not kept alive expires, and a watch sees its key removed") {
  cluster_test::EtcdServer etcd;
  Loop loop;
  EtcdClient client(loop.timer(), loop.network(), etcd.endpoint());
  const std::int64_t lease = loop.wait(client.grant_lease(std::chrono::seconds(1)));
  loop.wait(client.put("/members/short", "up", lease));
  const EtcdRange range = loop.wait(client.get_prefix("/members/"));
  REQUIRE(range.kvs.size() == 1);

  Watcher watcher(client, "/members/", range.revision + 1,
                  [](const auto& events) { return saw_remove_of(events, "/members/short"); });
  loop.wait(watcher.until_done());
  CHECK(loop.wait(client.get_prefix("/members/")).kvs.empty());
  CHECK(loop.wait(client.keep_alive(lease)) == 0);
}

TEST_CASE("a watch from get_prefix's revision sees exactly the later changes, in order") {
  cluster_test::EtcdServer etcd;
  Loop loop;
  EtcdClient client(loop.timer(), loop.network(), etcd.endpoint());
  loop.wait(client.put("/w/before", "1"));
  loop.wait(client.put("/w/changed", "1"));
  const EtcdRange range = loop.wait(client.get_prefix("/w/"));
  REQUIRE(range.kvs.size() == 2);

  loop.wait(client.put("/w/changed", "2"));
  loop.wait(client.put("/other/x", "not under the prefix"));
  loop.wait(client.put("/w/new", "1"));
  loop.wait(client.remove("/w/before"));
  loop.wait(client.put("/w/last", "1"));

  Watcher watcher(client, "/w/", range.revision + 1,
                  [](const auto& events) { return !events.empty() && events.back().kv.key == "/w/last"; });
  loop.wait(watcher.until_done());
  const auto& e = watcher.events;
  REQUIRE(e.size() == 4);
  CHECK(e[0].type == EtcdWatchEvent::Type::put);
  CHECK(e[0].kv.key == "/w/changed");
  CHECK(e[0].kv.value == "2");
  CHECK(e[1].type == EtcdWatchEvent::Type::put);
  CHECK(e[1].kv.key == "/w/new");
  CHECK(e[2].type == EtcdWatchEvent::Type::remove);
  CHECK(e[2].kv.key == "/w/before");
  CHECK(e[3].kv.key == "/w/last");
  for (std::size_t i = 0; i < e.size(); ++i) {
    CHECK(e[i].kv.mod_revision > range.revision);
    if (i > 0) CHECK(e[i].kv.mod_revision > e[i - 1].kv.mod_revision);
  }
}

TEST_CASE("a watch from now sees changes made after it started") {
  cluster_test::EtcdServer etcd;
  Loop loop;
  EtcdClient client(loop.timer(), loop.network(), etcd.endpoint());
  loop.wait(client.put("/n/old", "1"));
  Watcher watcher(client, "/n/", 0, [](const auto& events) { return !events.empty(); });
  loop.wait(watcher.until_done().exclusiveJoin(keep_putting(loop, client, "/n/new")));
  REQUIRE_FALSE(watcher.events.empty());
  for (const auto& e : watcher.events) CHECK(e.kv.key == "/n/new");
}

TEST_CASE("a request to an endpoint where no etcd listens fails, naming the endpoint") {
  const std::string endpoint = "127.0.0.1:" + std::to_string(cluster_test::free_port());
  Loop loop;
  EtcdClient client(loop.timer(), loop.network(), endpoint);
  const std::string error = loop.failure(client.put("/troupe/x", "1"));
  INFO(error);
  CHECK(contains(error, "etcd at " + endpoint + ": put /troupe/x failed: connection refused"));
  CHECK(contains(loop.failure(client.get_prefix("/troupe/")), "etcd at " + endpoint + ": get prefix /troupe/ failed"));
  CHECK(contains(loop.failure(client.watch_prefix("/troupe/", 0, [](auto) {})),
                 "etcd at " + endpoint + ": watch prefix /troupe/ failed: connection refused"));
}

TEST_CASE("a watch fails when its etcd stops") {
  cluster_test::EtcdServer etcd;
  Loop loop;
  EtcdClient client(loop.timer(), loop.network(), etcd.endpoint());
  Watcher watcher(client, "/s/", 0, [](const auto& events) { return !events.empty(); });
  loop.wait(watcher.until_done().exclusiveJoin(keep_putting(loop, client, "/s/k")));  // it streams
  SUBCASE("stopped") { etcd.stop(); }
  SUBCASE("killed") { etcd.kill(); }
  const std::string error = loop.failure(watcher.watch.addBranch());
  INFO(error);
  CHECK(contains(error, "etcd at " + etcd.endpoint() + ": watch prefix /s/ failed: the watch stream ended"));
}
