// Application errors between processes: an enum error crosses as its category's name and number;
// a node that registered the category decodes it back into the enum, one that did not gets
// Errc::unknown_category naming it.
#include "peer_process.hpp"
#include "transport_test_support.hpp"
#include "wire_messages.hpp"

#include <troupe/transport/node.hpp>
#include <troupe/troupe.hpp>

#include <doctest/doctest.h>

#include <string>

using namespace transport_test;
using namespace std::chrono_literals;

TEST_CASE("an application error crosses nodes and compares equal to the enum on the other side") {
  PeerProcess peer("b", kTestSecret);
  troupe::System system;
  troupe::transport::Node node{system, node_config("a")};
  troupe::ScopedActor me(system);
  node.add_peer("b", "127.0.0.1", peer.port());
  auto found = node.whereis("b", "bank", 10s);
  REQUIRE(found.ok());
  const troupe::DynamicHandle bank = *found;

  CHECK(me.request<std::int32_t>(bank, Withdraw{4}, 10s).value() == 6);

  SUBCASE("a category both nodes register decodes into the same enum") {
    const auto r = me.request<std::int32_t>(bank, Withdraw{50}, 10s);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == BankError::insufficient_funds);
    CHECK_FALSE(r.error() == BankError::no_account);
    CHECK(r.error().category() == &troupe_error_category(BankError{}));
    CHECK(r.error().what == "balance 10, asked 50");
    CHECK(r.error().message() == "bank.insufficient_funds: balance 10, asked 50");
  }
  SUBCASE("a category only the sender registers decodes as unknown_category, naming it") {
    const auto r = me.request<void>(bank, OpenVault{}, 10s);
    REQUIRE_FALSE(r.ok());
    CHECK(r.code() == troupe::Errc::unknown_category);
    CHECK(r.error().category() == nullptr);
    CHECK(r.error().message() ==
          "unknown_category: category 'vault' (not registered on this node), code 3: the vault is locked");
  }
  // The connection carried on.
  CHECK(me.request<std::int32_t>(bank, Withdraw{10}, 10s).value() == 0);
  CHECK(node.stats().connections_failed == 0);
}
