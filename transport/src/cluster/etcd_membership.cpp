#include "etcd_membership.hpp"

#include "../kj_duration.hpp"
#include "../node_core.hpp"
#include "membership_messages.hpp"

#include <kj/debug.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace troupe::transport::detail {
namespace {

// A member's key holds where it listens and its run, as JSON.
std::string describe(const Member& m) {
  return nlohmann::json{{"host", m.host}, {"port", m.port}, {"incarnation", m.incarnation}}.dump();
}

std::uint64_t incarnation_in(const std::string& value) {
  const nlohmann::json j = nlohmann::json::parse(value, nullptr, false);
  return j.is_object() && j.contains("incarnation") && j["incarnation"].is_number_unsigned()
             ? j["incarnation"].get<std::uint64_t>()
             : 0;
}

}  // namespace

EtcdMembership::EtcdMembership(NodeCore& node, EtcdDiscovery config, Member self, DynamicHandle membership)
    : node_(node),
      config_(std::move(config)),
      self_(std::move(self)),
      membership_(std::move(membership)),
      client_(std::make_unique<EtcdClient>(node.loop().timer(), node.loop().io().getNetwork(), config_.endpoint)) {}

EtcdMembership::~EtcdMembership() = default;

void EtcdMembership::start() { node_.loop().tasks().add(canceler_.wrap(run())); }

kj::Promise<void> EtcdMembership::run() {
  const auto ttl =
      std::max(std::chrono::duration_cast<std::chrono::seconds>(config_.lease_ttl), std::chrono::seconds(1));
  const std::string prefix = config_.prefix + "members/";
  return client_->grant_lease(ttl)
      .then([this](std::int64_t lease) {
        lease_ = lease;
        return register_self();
      })
      .then([this, prefix]() { return client_->get_prefix(prefix); })
      .then([this, prefix](EtcdRange range) {
        for (const EtcdKeyValue& kv : range.kvs) seen(kv);
        membership_.send(EtcdRegistered{});  // after the members it found: it is up once they answered
        // Exactly the changes after that read, while the lease is renewed; either ending ends both.
        return client_
            ->watch_prefix(prefix, range.revision + 1,
                           [this, prefix](std::vector<EtcdWatchEvent> events) {
                             for (const EtcdWatchEvent& e : events) {
                               if (e.type == EtcdWatchEvent::Type::put) {
                                 seen(e.kv);
                               } else {
                                 membership_.send(EtcdGone{e.kv.key.substr(prefix.size())});
                               }
                             }
                           })
            .exclusiveJoin(renew());
      })
      .catch_([this](kj::Exception&& e) -> kj::Promise<void> {
        const std::string why = e.getDescription().cStr();
        membership_.send(EtcdTrouble{Error{Errc::node_unreachable, why}});
        if (node_.log().enabled(LogLevel::warning)) {
          node_.log().log({.level = LogLevel::warning,
                           .name = "etcd_unavailable",
                           .message = "etcd: " + why + "; trying again",
                           .reason = why});
        }
        return retry_later();
      });
}

// The key of this node's name, unless another live node holds it. A key with this node's own
// incarnation is its own, from before the loop started over: it takes it over with the new lease.
kj::Promise<void> EtcdMembership::register_self() {
  const std::string key = member_key(self_.name);
  return client_->create(key, describe(self_), lease_).then([this, key](bool created) -> kj::Promise<void> {
    if (created) return kj::READY_NOW;
    return client_->get_prefix(key).then([this, key](EtcdRange held) -> kj::Promise<void> {
      for (const EtcdKeyValue& kv : held.kvs) {
        if (kv.key == key && incarnation_in(kv.value) == self_.incarnation) {
          return client_->put(key, describe(self_), lease_);
        }
      }
      membership_.send(
          EtcdTrouble{Error{Errc::name_taken, "node name '" + self_.name +
                                                  "' is registered in etcd by another live node (key " + key + ")"}});
      return node_.loop().timer().afterDelay(to_kj(config_.retry_interval)).then([this]() { return register_self(); });
    });
  });
}

kj::Promise<void> EtcdMembership::renew() {
  const kj::Duration every = to_kj(config_.lease_ttl) / 3;
  return node_.loop()
      .timer()
      .afterDelay(every)
      .then([this]() { return client_->keep_alive(lease_); })
      .then([this](std::int64_t left) -> kj::Promise<void> {
        // Expired (etcd unreachable for a whole TTL): every member saw this node's key go.
        if (left == 0) return KJ_EXCEPTION(DISCONNECTED, "this node's lease expired");
        return renew();
      });
}

void EtcdMembership::seen(const EtcdKeyValue& kv) {
  const std::string prefix = config_.prefix + "members/";
  if (kv.key.size() <= prefix.size()) return;
  const nlohmann::json j = nlohmann::json::parse(kv.value, nullptr, false);
  if (!j.is_object() || !j.contains("host") || !j["host"].is_string() || !j.contains("port") ||
      !j["port"].is_number_unsigned() || j["port"].get<std::uint64_t>() > 65535) {
    if (node_.log().enabled(LogLevel::warning)) {
      const LogField fields[] = {{"key", kv.key}};
      node_.log().log({.level = LogLevel::warning,
                       .name = "etcd_bad_member",
                       .message = "etcd: key " + kv.key + " does not describe a member; ignored",
                       .reason = "not a member's description",
                       .fields = fields});
    }
    return;
  }
  membership_.send(EtcdSeen{kv.key.substr(prefix.size()), j["host"].get<std::string>(),
                            static_cast<std::uint16_t>(j["port"].get<std::uint64_t>()), incarnation_in(kv.value)});
}

kj::Promise<void> EtcdMembership::retry_later() {
  return node_.loop().timer().afterDelay(to_kj(config_.retry_interval)).then([this]() { return run(); });
}

std::string EtcdMembership::owner_value() const {
  return nlohmann::json{{"owner", self_.name}, {"incarnation", self_.incarnation}}.dump();
}

void EtcdMembership::claim_name(const std::string& name, std::function<void(Result<bool>)> done) {
  if (lease_ == 0) return done(Error{Errc::node_unreachable, "this node is not registered in etcd (yet)"});
  node_.loop().tasks().add(client_->create(name_key(name), owner_value(), lease_)
                               .then([done](bool created) { done(created); },
                                     [done](kj::Exception&& e) {
                                       done(Error{Errc::node_unreachable, e.getDescription().cStr()});
                                     }));
}

void EtcdMembership::release_name(const std::string& name) {
  if (lease_ == 0) return;  // left: the lease took the key with it
  node_.loop().tasks().add(client_->remove_if_value(name_key(name), owner_value())
                               .then([](bool) {},
                                     [this, name](kj::Exception&& e) {
                                       // Its key stays until this node's lease ends.
                                       if (!node_.log().enabled(LogLevel::warning)) return;
                                       const std::string why = e.getDescription().cStr();
                                       const LogField fields[] = {{"name", name}};
                                       node_.log().log({.level = LogLevel::warning,
                                                        .name = "cluster_name_not_released",
                                                        .message = "etcd: cannot release name '" + name + "': " + why,
                                                        .reason = why,
                                                        .fields = fields});
                                     }));
}

void EtcdMembership::leave(std::function<void()> done) {
  canceler_.cancel("the node left the cluster");
  if (lease_ == 0) return done();
  node_.loop().tasks().add(client_->revoke(lease_).then([done]() { done(); }, [done](kj::Exception&&) { done(); }));
  lease_ = 0;
}

}  // namespace troupe::transport::detail
