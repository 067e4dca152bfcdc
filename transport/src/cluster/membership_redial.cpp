// Members declared down are asked again for a while, as seeds are.
//
// A node asks its seeds again whenever they are not up for it, so a partition between a node and
// its seed heals by itself. Two members that are not each other's seed (both joined through a
// third) have only their connection: once a partition cuts it, neither would ever dial the other
// again, and if their seeds are gone (or cut off too), their views would stay split for good. So
// a member this node declares down (MemberDown) stays a candidate to ask, at the address the
// transport has for it, for SeedDiscovery::redial_lost_for. When the two meet again, each has
// declared the other down, and the rejoin settles which one comes back as a new incarnation
// (membership_rejoin.cpp), so both views converge. A candidate is dropped once its member is up
// again, once it announces a graceful leave (a member that left is never dialled again), or when
// its time is up. With etcd, etcd's list says who the members are: no candidates.
#include "membership_actor.hpp"

#include <algorithm>

namespace troupe::transport::detail {

void Membership::remember_lost(const Member& gone) {
  if (setup_.etcd || setup_.redial_lost_for <= Duration::zero()) return;
  // A seed of that name is asked again anyway, for as long as this node runs.
  auto same_name = [&gone](const Seed& s) { return s.address.name == gone.name; };
  auto it = std::find_if(seeds_.begin(), seeds_.end(), same_name);
  if (it != seeds_.end() && !it->lost) return;
  const auto until = self_.system().now() + setup_.redial_lost_for;
  if (it != seeds_.end()) {
    it->address = SeedAddress{gone.name, gone.host, gone.port};
    it->lost_until = until;
    return;
  }
  Seed candidate{++next_seed_, SeedAddress{gone.name, gone.host, gone.port}};
  candidate.lost = true;
  candidate.lost_until = until;
  seeds_.push_back(std::move(candidate));
}

void Membership::forget_lost(const std::string& name) {
  std::erase_if(seeds_, [&name](const Seed& s) { return s.lost && s.address.name == name; });
}

void Membership::drop_expired_lost() {
  const auto now = self_.system().now();
  std::erase_if(seeds_, [now](const Seed& s) { return s.lost && s.lost_until <= now; });
}

}  // namespace troupe::transport::detail
