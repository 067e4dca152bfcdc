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
  const std::string prefix = config_.prefix + "members/";
  const std::string own_key = member_key(self_.name);
  return lease()
      .then([this](std::int64_t lease) {
        lease_ = lease;
        return register_self();
      })
      .then([this, prefix]() {
        registered_ = true;
        return client_->get_prefix(prefix);
      })
      .then([this, prefix, own_key](EtcdRange range) {
        for (const EtcdKeyValue& kv : range.kvs) seen(kv);
        membership_.send(EtcdRegistered{});  // after the members it found: it is up once they answered
        // Exactly the changes after that read, while the lease is renewed; either ending ends both.
        return client_
            ->watch_prefix(prefix, range.revision + 1,
                           [this, prefix, own_key](std::vector<EtcdWatchEvent> events) {
                             for (const EtcdWatchEvent& e : events) {
                               if (e.type == EtcdWatchEvent::Type::put) {
                                 seen(e.kv);
                               } else if (e.kv.key == own_key) {
                                 kj::throwFatalException(declared_down("its key in etcd was deleted"));
                               } else {
                                 membership_.send(EtcdGone{e.kv.key.substr(prefix.size())});
                               }
                             }
                           })
            .exclusiveJoin(renew());
      })
      .catch_([this](kj::Exception&& e) -> kj::Promise<void> {
        if (declared_down_) return kj::READY_NOW;  // until rejoin()
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

kj::Promise<std::int64_t> EtcdMembership::lease() {
  // Before its key is registered a run has nothing under its lease, and a lease that expired while
  // it waited for its name (another run's key to go) is only replaced.
  if (lease_ == 0 || !registered_) {
    return client_->grant_lease(
        std::max(std::chrono::duration_cast<std::chrono::seconds>(config_.lease_ttl), std::chrono::seconds(1)));
  }
  return client_->keep_alive(lease_).then([this](std::int64_t left) -> kj::Promise<std::int64_t> {
    if (left == 0) return declared_down("its lease in etcd expired");  // and its keys went with it
    return lease_;
  });
}

// The key of this node's name, unless another live node holds it. A key with this node's own
// incarnation is its own, from before the loop started over: it takes it over with the lease.
// Once registered, the key can only be found gone: this run was declared down.
kj::Promise<void> EtcdMembership::register_self() {
  const std::string key = member_key(self_.name);
  auto own = [this, key](const EtcdRange& held) {
    return std::any_of(held.kvs.begin(), held.kvs.end(), [&](const EtcdKeyValue& kv) {
      return kv.key == key && incarnation_in(kv.value) == self_.incarnation;
    });
  };
  if (registered_) {
    return client_->get_prefix(key).then([this, own](EtcdRange held) -> kj::Promise<void> {
      if (own(held)) return kj::READY_NOW;
      return declared_down("its key in etcd went");
    });
  }
  return client_->create(key, describe(self_), lease_).then([this, key, own](bool created) -> kj::Promise<void> {
    if (created) return kj::READY_NOW;
    return client_->get_prefix(key).then([this, key, own](EtcdRange held) -> kj::Promise<void> {
      if (own(held)) return client_->put(key, describe(self_), lease_);
      membership_.send(
          EtcdTrouble{Error{Errc::name_taken, "node name '" + self_.name +
                                                  "' is registered in etcd by another live node (key " + key + ")"}});
      return node_.loop().timer().afterDelay(to_kj(config_.retry_interval)).then([this]() { return register_self(); });
    });
  });
}

kj::Exception EtcdMembership::declared_down(const std::string& why) {
  if (!declared_down_) {
    declared_down_ = true;
    if (node_.log().enabled(LogLevel::warning)) {
      node_.log().log({.level = LogLevel::warning,
                       .name = "etcd_declared_down",
                       .message = "etcd: this node's run is gone for every member: " + why,
                       .reason = why});
    }
    membership_.send(EtcdDeclaredDown{self_.incarnation, why});
  }
  return KJ_EXCEPTION(DISCONNECTED, why);
}

kj::Promise<void> EtcdMembership::renew() {
  const kj::Duration every = to_kj(config_.lease_ttl) / 3;
  return node_.loop()
      .timer()
      .afterDelay(every)
      .then([this]() { return client_->keep_alive(lease_); })
      .then([this](std::int64_t left) -> kj::Promise<void> {
        // Expired (etcd unreachable, or this node frozen, for a whole TTL): every member saw this
        // node's key go.
        if (left == 0) return declared_down("its lease in etcd expired");
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

void EtcdMembership::rejoin(std::uint64_t incarnation) {
  canceler_.cancel("this node rejoins as a new incarnation");
  self_.incarnation = incarnation;
  registered_ = false;
  declared_down_ = false;
  const std::int64_t old = std::exchange(lease_, 0);
  kj::Promise<void> revoked = kj::READY_NOW;
  // Its keys go now, if they had not: a member still holding the old run learns it is gone.
  if (old != 0) revoked = client_->revoke(old).catch_([](kj::Exception&&) {});
  node_.loop().tasks().add(canceler_.wrap(revoked.then([this]() { return run(); })));
}

void EtcdMembership::leave(std::function<void()> done) {
  canceler_.cancel("the node left the cluster");
  if (lease_ == 0) return done();
  node_.loop().tasks().add(client_->revoke(lease_).then([done]() { done(); }, [done](kj::Exception&&) { done(); }));
  lease_ = 0;
}

}  // namespace troupe::transport::detail
