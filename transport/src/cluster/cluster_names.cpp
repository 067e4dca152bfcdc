#include "cluster_names.hpp"

#include <algorithm>
#include <tuple>

namespace troupe::transport::detail {
namespace {

// FNV-1a, 64 bits: the same on every node and build (std::hash promises neither).
std::uint64_t rank(std::string_view member, std::string_view name) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](std::string_view text) {
    for (unsigned char c : text) {
      h ^= c;
      h *= 0x100000001b3ull;
    }
  };
  mix(member);
  mix(std::string_view("\0", 1));  // "ab"+"c" and "a"+"bc" rank apart
  mix(name);
  return h;
}

// The conflict rule: the entry whose owner's name sorts first, then the lower incarnation.
bool wins(const NameEntry& a, const NameEntry& b) {
  return std::tie(a.owner, a.owner_incarnation) < std::tie(b.owner, b.owner_incarnation);
}

bool same_owner(const NameEntry& a, const NameEntry& b) {
  return a.owner == b.owner && a.owner_incarnation == b.owner_incarnation;
}

Error no_such_name(const std::string& name) {
  return Error{Errc::no_such_name, "no actor is registered as '" + name + "' in the cluster"};
}

bool local_actor(const DynamicHandle& actor) {
  return actor.valid() && dynamic_cast<const troupe::detail::ActorCell*>(actor.core()) != nullptr;
}

}  // namespace

const std::string& ClusterNames::home(const std::string& name) const {
  const std::string* best = &me_;
  std::uint64_t best_rank = rank(me_, name);
  for (const auto& [member, handle] : peers_) {
    const std::uint64_t r = rank(member, name);
    if (r > best_rank || (r == best_rank && member < *best)) {
      best = &member;
      best_rank = r;
    }
  }
  return *best;
}

void ClusterNames::member_up(const DynamicHandle& membership) {
  NamesAdded own;
  for (const auto& [n, entry] : names_) {
    if (entry.owner == me_) own.entries.push_back(entry);
  }
  if (!own.entries.empty()) membership.send(std::move(own));
}

void ClusterNames::member_gone(const std::string& name) {
  std::erase_if(names_, [&name](const auto& kv) { return kv.second.owner == name; });
}

void ClusterNames::rejoin(std::uint64_t incarnation) {
  incarnation_ = incarnation;
  for (auto it = names_.begin(); it != names_.end();) {
    if (it->second.owner != me_) {  // left over from a member not up here: gone with the old run's view
      it = names_.erase(it);
      continue;
    }
    it->second.owner_incarnation = incarnation;
    if (!etcd_) {
      ++it;
      continue;
    }
    unclaimed_.push_back(it->second);
    it = names_.erase(it);
  }
}

void ClusterNames::etcd_registered() {
  std::vector<NameEntry> names = std::move(unclaimed_);
  unclaimed_.clear();
  for (NameEntry& entry : names) {
    const std::uint64_t id = ++next_claim_;
    const std::string name = entry.name;
    claims_.emplace(id, Claim{std::move(entry), std::nullopt});
    etcd_->claim(name, id);
  }
}

void ClusterNames::reclaimed(Claim claim, const Result<bool>& created) {
  const std::string& name = claim.entry.name;
  if (!owned_.contains(name)) {  // its actor stopped, or it was unregistered, meanwhile
    if (created && *created) etcd_->release(name);
    return;
  }
  if (!created) return unclaimed_.push_back(std::move(claim.entry));  // at the next registration
  if (!*created) {
    drop_owned(name);
    if (log_.enabled(LogLevel::warning)) {
      const LogField fields[] = {{"name", name}};
      log_.log({.level = LogLevel::warning,
                .name = "cluster_name_lost",
                .message = "cluster name '" + name +
                           "' is held in etcd by another node now (it registered it while this node was down); "
                           "this node's registration is dropped",
                .reason = "another node registered it while this node was down",
                .fields = fields});
    }
    return;
  }
  record(claim.entry);
  broadcast_added(claim.entry);
}

Promise<Unit> ClusterNames::register_name(const RegisterClusterName& r) {
  Promise<Unit> promise = self_.promise<Unit>();
  if (!local_actor(r.actor)) {
    promise.fail(Error{Errc::bad_arguments, "only an actor of this node can be registered through it"});
    return promise;
  }
  if (auto it = names_.find(r.name); it != names_.end()) {
    promise.fail(Error{Errc::name_taken, "'" + r.name + "' is registered by node '" + it->second.owner + "'"});
    return promise;
  }
  NameEntry entry{r.name, me_, incarnation_, r.actor};
  if (etcd_) {
    const std::uint64_t id = ++next_claim_;
    claims_.emplace(id, Claim{entry, promise});
    etcd_->claim(r.name, id);
    return promise;
  }
  const std::string& at = home(r.name);
  if (at == me_) {
    Result<Unit> granted = claim(entry);
    if (granted) {
      promise.deliver(Unit{});
    } else {
      promise.fail(granted.error());
    }
    return promise;
  }
  ClaimName claim_it{entry};
  self_.request(peers_.at(at), std::move(claim_it)).then([this, promise, entry](Result<Unit> granted) mutable {
    if (!granted) return promise.fail(granted.error());
    record(entry);  // the home's NamesAdded may not have come yet
    promise.deliver(Unit{});
  });
  return promise;
}

void ClusterNames::etcd_claimed(const EtcdNameClaimed& c) {
  auto it = claims_.find(c.id);
  if (it == claims_.end()) return;
  Claim claim = std::move(it->second);
  claims_.erase(it);
  if (!claim.promise) return reclaimed(std::move(claim), c.created);
  Promise<Unit>& promise = *claim.promise;
  if (!c.created) return promise.fail(c.created.error());
  if (!*c.created) {
    return promise.fail(Error{Errc::name_taken, "'" + claim.entry.name + "' is registered in etcd by another node"});
  }
  record(claim.entry);
  broadcast_added(claim.entry);
  promise.deliver(Unit{});
}

Result<Unit> ClusterNames::claim(const NameEntry& entry) {
  if (auto it = names_.find(entry.name); it != names_.end() && !same_owner(it->second, entry)) {
    return Error{Errc::name_taken, "'" + entry.name + "' is registered by node '" + it->second.owner + "'"};
  }
  record(entry);
  broadcast_added(entry);
  return Unit{};
}

bool ClusterNames::record(const NameEntry& entry) {
  auto it = names_.find(entry.name);
  if (it != names_.end() && !same_owner(it->second, entry)) {
    if (!wins(entry, it->second)) return false;
    // Two sides each granted the name: the rule keeps this one, everywhere.
    if (it->second.owner == me_) {
      drop_owned(entry.name);
      if (log_.enabled(LogLevel::warning)) {
        const LogField fields[] = {{"name", entry.name}};
        log_.log({.level = LogLevel::warning,
                  .name = "cluster_name_lost",
                  .message = "cluster name '" + entry.name + "' is node '" + entry.owner +
                             "''s now: both registered it while apart (the owner whose name sorts first keeps "
                             "it); this node's registration is dropped",
                  .peer = entry.owner,
                  .reason = "both registered it while apart",
                  .fields = fields});
      }
    }
  }
  names_.insert_or_assign(entry.name, entry);
  if (entry.owner == me_ && !owned_.contains(entry.name)) owned_.emplace(entry.name, Owned{self_.monitor(entry.actor)});
  answer_waiters(entry.name);
  return true;
}

void ClusterNames::drop_owned(const std::string& name) {
  if (auto it = owned_.find(name); it != owned_.end()) {
    self_.demonitor(it->second.monitor);
    owned_.erase(it);
  }
}

bool ClusterNames::unregister_name(const std::string& name) {
  auto it = names_.find(name);
  const bool unclaimed = std::erase_if(unclaimed_, [&name](const NameEntry& e) { return e.name == name; }) > 0;
  if (!unclaimed && (it == names_.end() || it->second.owner != me_)) return false;
  if (it != names_.end() && it->second.owner == me_) names_.erase(it);
  drop_owned(name);
  broadcast_removed(name);
  return true;
}

bool ClusterNames::down(const Down& d) {
  for (auto it = owned_.begin(); it != owned_.end(); ++it) {
    if (it->second.monitor != d.ref) continue;
    const std::string name = it->first;
    owned_.erase(it);
    names_.erase(name);
    std::erase_if(unclaimed_, [&name](const NameEntry& e) { return e.name == name; });
    broadcast_removed(name);
    return true;
  }
  return false;
}

void ClusterNames::added(const std::vector<NameEntry>& entries) {
  for (const NameEntry& e : entries) record(e);
}

void ClusterNames::removed(const NameRemoved& r) {
  auto it = names_.find(r.name);
  if (it != names_.end() && it->second.owner == r.owner && it->second.owner_incarnation == r.owner_incarnation) {
    names_.erase(it);
  }
}

Result<NameEntry> ClusterNames::ask(const std::string& name) const {
  auto it = names_.find(name);
  if (it == names_.end()) return no_such_name(name);
  return it->second;
}

Promise<DynamicHandle> ClusterNames::whereis(const WhereisName& w) {
  Promise<DynamicHandle> promise = self_.promise<DynamicHandle>();
  if (auto it = names_.find(w.name); it != names_.end()) {
    promise.deliver(it->second.actor);
    return promise;
  }
  if (w.wait > Duration::zero()) {
    const std::uint64_t id = ++next_waiting_;
    waiting_.push_back(Waiting{id, w.name, promise, self_.send_after(self_.self(), w.wait, AwaitNameExpired{id})});
    return promise;
  }
  const std::string& at = home(w.name);
  if (at == me_) {
    promise.fail(no_such_name(w.name));
    return promise;
  }
  AskName ask_home{w.name};
  self_.request(peers_.at(at), std::move(ask_home)).then([promise](Result<NameEntry> found) mutable {
    if (found) {
      promise.deliver(found->actor);
    } else {
      promise.fail(found.error());
    }
  });
  return promise;
}

void ClusterNames::await_expired(std::uint64_t id) {
  auto it = std::find_if(waiting_.begin(), waiting_.end(), [id](const Waiting& w) { return w.id == id; });
  if (it == waiting_.end()) return;
  it->promise.fail(Error{Errc::timeout, "no actor was registered as '" + it->name + "' in the cluster in time"});
  waiting_.erase(it);
}

void ClusterNames::answer_waiters(const std::string& name) {
  auto it = names_.find(name);
  if (it == names_.end()) return;
  std::erase_if(waiting_, [&](Waiting& w) {
    if (w.name != name) return false;
    w.expiry.cancel();
    w.promise.deliver(it->second.actor);
    return true;
  });
}

void ClusterNames::broadcast_added(const NameEntry& entry) {
  for (const auto& [member, membership] : peers_) membership.send(NamesAdded{{entry}});
}

void ClusterNames::broadcast_removed(const std::string& name) {
  if (etcd_) etcd_->release(name);  // its key in etcd, which decides who may register it next
  for (const auto& [member, membership] : peers_) membership.send(NameRemoved{name, me_, incarnation_});
}

}  // namespace troupe::transport::detail
