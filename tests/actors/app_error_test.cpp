// Application errors: an enum registered as a category, returned by handlers and compared by
// requesters (co_await, ScopedActor::request, Promise); their messages; and readable type names
// in troupe's own error texts.
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace bank {

enum class BankError { insufficient_funds = 1, no_account, frozen = 7 };
// frozen is left unnamed: its messages show the number.
TROUPE_ERROR_CATEGORY(BankError, "bank", insufficient_funds, no_account);

enum class AuditError : std::uint8_t { insufficient_funds = 1 };  // the same number, another category
TROUPE_ERROR_CATEGORY(AuditError, "audit", insufficient_funds);

// Another enum claiming "bank": refused, the first keeps the name.
enum class Impostor { x = 1 };
TROUPE_ERROR_CATEGORY(Impostor, "bank", x);

}  // namespace bank

namespace {

using bank::AuditError;
using bank::BankError;

struct Withdraw {
  int amount;
};
struct Open {
  std::string owner;
};
struct Later {
  int amount;
};
struct Settle {};
struct Transfer {
  int amount;
};

troupe::Result<int> withdraw(int balance, int amount) {
  if (amount > balance) {
    return troupe::Error(BankError::insufficient_funds,
                         "balance " + std::to_string(balance) + ", asked " + std::to_string(amount));
  }
  return balance - amount;
}

// An account holding 10: answers Withdraw with a Result, Open with a Result<void> built from the
// enum, and Later through a Promise it settles from its next message (Settle, sent to itself).
auto account(troupe::Context& self) {
  auto waiting = std::make_shared<std::vector<std::pair<troupe::Promise<int>, int>>>();
  return troupe::behavior([](Withdraw w) { return withdraw(10, w.amount); },
                          [](const Open&) -> troupe::Result<void> { return BankError::no_account; },
                          [&self, waiting](Later l) {
                            auto p = self.promise<int>();
                            waiting->emplace_back(p, l.amount);
                            self.self().send(Settle{});
                            return p;
                          },
                          [waiting](Settle) {
                            for (auto& [p, amount] : *waiting) {
                              if (amount > 10) {
                                p.fail(troupe::Error(BankError::insufficient_funds, "later"));
                              } else {
                                p.deliver(10 - amount);
                              }
                            }
                            waiting->clear();
                          });
}

}  // namespace

TEST_SUITE("application errors") {
  TEST_CASE("a handler's enum error reaches a ScopedActor's request, which compares the enum") {
    troupe::System system;
    troupe::ScopedActor me(system);
    auto a = system.spawn(account);

    CHECK(me.request<int>(a, Withdraw{4}).value() == 6);
    const troupe::Result<int> r = me.request<int>(a, Withdraw{50});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == BankError::insufficient_funds);
    CHECK(r.error().is(BankError::insufficient_funds));
    CHECK(r.code() == troupe::Errc::application);
    CHECK(r.error().what == "balance 10, asked 50");
    CHECK(r.error().category() == &troupe_error_category(BankError{}));
    CHECK(r.error().value() == 1);
    // Another code, another category with the same number, and troupe's own codes: all different.
    CHECK_FALSE(r.error() == BankError::no_account);
    CHECK_FALSE(r.error() == AuditError::insufficient_funds);
    CHECK_FALSE(r.error().is(AuditError::insufficient_funds));
    CHECK_FALSE(r.error() == troupe::Errc::actor_failed);
    CHECK(r.error() == troupe::Error(BankError::insufficient_funds, "other detail"));  // what is not compared

    const troupe::Result<void> opened = me.request<void>(a, Open{"ann"});
    REQUIRE_FALSE(opened.ok());
    CHECK(opened.error() == BankError::no_account);
    CHECK(opened.error().message() == "bank.no_account");
  }

  TEST_CASE("through co_await inside an actor, and through a Promise") {
    troupe::System system;
    troupe::ScopedActor me(system);
    auto a = system.spawn(account);
    // A teller that awaits the account and reports what it got, as text.
    auto teller = system.spawn([a](troupe::Context& self) {
      return troupe::behavior([&self, a](Transfer t) -> troupe::Task<std::string> {
        Withdraw w{t.amount};
        troupe::Result<int> r = co_await self.request<int>(a, w, 5s);
        if (r) co_return "ok " + std::to_string(*r);
        if (r.error() == BankError::insufficient_funds) co_return "refused: " + r.error().message();
        co_return "other: " + r.error().message();
      });
    });
    CHECK(me.request<std::string>(teller, Transfer{3}).value() == "ok 7");
    CHECK(me.request<std::string>(teller, Transfer{30}).value() ==
          "refused: bank.insufficient_funds: balance 10, asked 30");

    // A Task<Result<T>> handler passes the error on as its own reply.
    auto relay = system.spawn([a](troupe::Context& self) {
      return troupe::behavior([&self, a](Transfer t) -> troupe::Task<troupe::Result<int>> {
        Withdraw w{t.amount};
        troupe::Result<int> r = co_await self.request<int>(a, w, 5s);
        if (!r) co_return r.error();
        co_return *r;
      });
    });
    CHECK(me.request<int>(relay, Transfer{40}).error() == BankError::insufficient_funds);

    // A promise failed with the enum error.
    CHECK(me.request<int>(a, Later{4}).value() == 6);
    const troupe::Result<int> later = me.request<int>(a, Later{11});
    REQUIRE_FALSE(later.ok());
    CHECK(later.error() == BankError::insufficient_funds);
    CHECK(later.error().what == "later");
  }

  TEST_CASE("the message names the category and the code, or its number where the registration names none") {
    CHECK(troupe::Error(BankError::insufficient_funds, "balance 10, asked 50").message() ==
          "bank.insufficient_funds: balance 10, asked 50");
    CHECK(troupe::Error(BankError::frozen).message() == "bank.7");
    CHECK(troupe::Error(AuditError::insufficient_funds, "x").message() == "audit.insufficient_funds: x");
    // troupe's own codes read as before.
    CHECK(troupe::Error{troupe::Errc::timeout, ""}.message() == "timeout");
    CHECK(troupe::Error{troupe::Errc::actor_failed, "boom"}.message() == "actor_failed: boom");
    CHECK(troupe::Error{troupe::Errc::timeout}.category() == nullptr);
  }

  TEST_CASE("categories are found by name; a second enum under a taken name is refused") {
    CHECK(bank::troupe_error_category_registered_BankError);
    CHECK(bank::troupe_error_category_registered_AuditError);
    CHECK_FALSE(bank::troupe_error_category_registered_Impostor);
    CHECK(troupe::detail::find_error_category("bank") == &troupe_error_category(BankError{}));
    CHECK(troupe::detail::find_error_category("audit") == &troupe_error_category(AuditError{}));
    CHECK(troupe::detail::find_error_category("nobody") == nullptr);
    CHECK_FALSE(troupe::detail::valid_error_category_name("no:colons"));
    CHECK_FALSE(troupe::detail::valid_error_category_name(""));
    CHECK(troupe::detail::valid_error_category_name("my-app.bank_2"));
  }

}  // TEST_SUITE

TEST_SUITE("readable type names") {
  TEST_CASE("error texts name std::string, not std::__cxx11::basic_string<char>") {
    troupe::System system;
    troupe::ScopedActor me(system);
    auto echo = system.spawn(
        [](troupe::Context& self) { return troupe::behavior([&self](const std::string&) { self.quit(); }); });
    echo.send(std::string("stop"));
    REQUIRE(system.wait_idle(10s));
    const auto r = me.request(echo, std::string("anyone?"));
    REQUIRE(r.code() == troupe::Errc::dead_actor);
    CHECK(r.error().message() == "dead_actor: std::string");
  }

  TEST_CASE("type names: inline namespaces, default allocators and traits are hidden, once per type") {
    using troupe::detail::type_name;
    CHECK(type_name<std::string>() == "std::string");
    CHECK(type_name<std::string_view>() == "std::string_view");
    CHECK(type_name<std::vector<std::string>>() == "std::vector<std::string>");
    CHECK(type_name<std::vector<std::vector<int>>>() == "std::vector<std::vector<int>>");
    CHECK(troupe::message_type<std::string>.name == "std::string");
    static_assert(type_name<std::vector<std::string>>() == "std::vector<std::string>");  // made at compile time

    // The spellings a compiler may print in full (libstdc++'s and libc++'s).
    auto readable = [](std::string raw) {
      raw.resize(troupe::detail::readable_type_name(raw.data(), raw.size()));
      return raw;
    };
    CHECK(readable("std::vector<int, std::allocator<int> >") == "std::vector<int>");
    CHECK(readable("std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >") == "std::string");
    CHECK(readable(
              "std::__1::vector<std::__1::basic_string<char>, std::__1::allocator<std::__1::basic_string<char> > >") ==
          "std::vector<std::string>");
    CHECK(readable("std::unique_ptr<Foo, std::default_delete<Foo> >") == "std::unique_ptr<Foo>");
    CHECK(readable("std::vector<int, MyAlloc<int> >") == "std::vector<int, MyAlloc<int>>");  // not a default: kept
  }

}  // TEST_SUITE
