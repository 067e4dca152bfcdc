// request_await: request/response between actors with co_await, and what a timeout looks like.
//
// A front actor (a shop) answers quotes. To answer one it asks two back-end actors: a price list
// (fast) and a warehouse (a slow database: a blocking actor that sleeps in its handler). The shop's
// handler is a coroutine: `co_await self.request(...)` sends the request and suspends the handler
// until the response comes. The worker thread is not blocked meanwhile; it runs other actors.
//
// A request that gets no response within its timeout resumes with an Error instead of a value:
// failures are values (Result<T> = T or Error{code, what}), not exceptions, so the shop can still
// answer, with "stock unknown", when the warehouse is too slow.
#include <troupe/troupe.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <thread>

using namespace std::chrono_literals;

// --- Back ends --------------------------------------------------------------------------------
struct PriceOf {  // -> int, the unit price in cents
  std::string item;
};
struct StockOf {  // -> int, units in stock
  std::string item;
};

auto price_list(troupe::Context&) {
  std::map<std::string, int> cents{{"apple", 45}, {"anvil", 12'900}};
  return troupe::behavior([cents](const PriceOf& q) { return cents.at(q.item); });
}

// The warehouse runs on a thread of its own (spawned with SpawnOptions{.blocking = true}), so
// its handler may block. Most lookups take 5 ms; anvils live in the archive and take 600 ms.
auto warehouse(troupe::Context&) {
  std::map<std::string, int> stock{{"apple", 120}, {"anvil", 3}};
  return troupe::behavior([stock](const StockOf& q) {
    std::this_thread::sleep_for(q.item == "anvil" ? 600ms : 5ms);
    return stock.at(q.item);
  });
}
using PriceListHandle = troupe::Handle<int(PriceOf)>;
using WarehouseHandle = troupe::Handle<int(StockOf)>;

// --- Front ------------------------------------------------------------------------------------
struct Quote {  // -> QuoteReply
  std::string item;
  int quantity;
};
struct QuoteReply {
  int total_cents = 0;
  std::optional<int> in_stock;  // empty when the warehouse did not answer
  std::string stock_error;      // why it did not
};

constexpr auto kStockTimeout = 300ms;

auto shop(troupe::Context& self, PriceListHandle prices, WarehouseHandle stock) {
  // A handler that returns troupe::Task<T> is a coroutine; its co_return value is the reply.
  // Take the message by value: the coroutine outlives the call that started it, and a reference
  // to the message would dangle after the first co_await.
  return troupe::behavior([&self, prices, stock](Quote quote) -> troupe::Task<QuoteReply> {
    QuoteReply reply;

    // co_await gives a Result<int>: the price, or an Error (timeout after the default 5 s).
    // (Each message is built in a statement of its own: g++ 12 miscompiles a temporary aggregate
    // with a non-trivial member, such as PriceOf{...} with its std::string, inside a co_await
    // expression; a named message, moved into the request, is safe with every compiler.)
    PriceOf price_query{quote.item};
    troupe::Result<int> price = co_await self.request(prices, std::move(price_query));
    if (price) reply.total_cents = *price * quote.quantity;

    // The warehouse gets a deadline of its own. While this handler waits, the shop handles no
    // other message (they queue, in order), so its state is never seen half-way through a quote.
    StockOf stock_query{quote.item};
    troupe::Result<int> units = co_await self.request(stock, std::move(stock_query), kStockTimeout);
    if (units) {
      reply.in_stock = *units;
    } else {
      // An Error: a code from the documented list (troupe::Errc) and a detail text.
      const troupe::Error& error = units.error();
      reply.stock_error = error.message();
      std::printf("  shop: no stock figure for %s: Error{code = Errc::%s, what = \"%s\"}\n", quote.item.c_str(),
                  std::string(troupe::to_string(error.code)).c_str(), error.what.c_str());
    }
    co_return reply;
  });
}

static void print(const char* what, const troupe::Result<QuoteReply>& r) {
  if (!r) {
    std::printf("%-12s -> request failed: %s\n", what, r.error().message().c_str());
  } else if (r->in_stock) {
    std::printf("%-12s -> %d.%02d, %d in stock\n", what, r->total_cents / 100, r->total_cents % 100, *r->in_stock);
  } else {
    std::printf("%-12s -> %d.%02d, stock unknown (%s)\n", what, r->total_cents / 100, r->total_cents % 100,
                r->stock_error.c_str());
  }
}

int main() {
  troupe::System system;
  PriceListHandle prices = system.spawn(price_list);
  WarehouseHandle stock = system.spawn(troupe::SpawnOptions{.blocking = true}, warehouse);
  auto front = system.spawn(shop, prices, stock);

  troupe::ScopedActor me(system);
  std::printf("A shop actor answers quotes by awaiting a price list and a warehouse (stock timeout %lld ms).\n",
              static_cast<long long>(kStockTimeout.count()));

  // Everything answers in time.
  troupe::Result<QuoteReply> apples = me.request(front, Quote{"apple", 3});
  print("3 apples", apples);

  // The warehouse takes 600 ms for anvils: the shop's request times out after 300 ms, and the shop
  // still answers, with the Error's text. (The late stock reply is dropped when it arrives.)
  const auto start = std::chrono::steady_clock::now();
  troupe::Result<QuoteReply> anvil = me.request(front, Quote{"anvil", 1});
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  print("1 anvil", anvil);
  std::printf("  the anvil quote took %lld ms\n", static_cast<long long>(waited.count()));

  // The same Error, seen from main: the warehouse is still busy with the anvil the shop gave up
  // on, so a request with a 50 ms deadline times out too.
  troupe::Result<int> direct = me.request(stock, StockOf{"anvil"}, 50ms);
  std::printf("main asks the warehouse directly, 50 ms deadline -> %s\n",
              direct ? "answered" : direct.error().message().c_str());

  const bool ok = apples && apples->total_cents == 135 && apples->in_stock == 120 &&  //
                  anvil && anvil->total_cents == 12'900 && !anvil->in_stock && anvil->stock_error == "timeout" &&
                  waited >= kStockTimeout && !direct && direct.code() == troupe::Errc::timeout;
  std::printf("%s\n", ok ? "OK" : "FAILED: unexpected replies");
  return ok ? 0 : 1;
}
