// hello: the smallest troupe program. Spawn an actor, send it messages, get replies in main().
//
// An actor is a piece of state that no one else can touch, plus handlers that run one message at
// a time. Other code never calls it: it sends messages, which wait in the actor's mailbox until a
// worker thread runs the actor. This program shows the two ways to hear back from one:
//   1. a request: send a message and wait for the handler's return value (the reply);
//   2. a one-way message that carries a handle to answer to; the actor sends its answer there.
#include <troupe/troupe.hpp>

#include <cstdio>
#include <string>

// Messages are plain C++ types: no base class, no registration.
struct Greet {
  std::string name;
};
struct GreetMe {
  std::string name;
  troupe::DynamicHandle reply_to;  // a handle is a cheap, copyable reference to an actor
};
struct Greeting {
  std::string text;
};

int main() {
  // The actor system: a pool of worker threads (one per hardware thread by default) that runs
  // actors. Its destructor waits until every actor has handled its messages, then stops them.
  troupe::System system;

  // A function actor: called once, on the actor's first turn, it returns the actor's behavior,
  // one handler (a lambda taking the message) per message type. What a handler returns is the
  // reply to a request. The handle we get back is typed, Handle<std::string(Greet), void(GreetMe)>:
  // the compiler refuses to send this actor anything it has no handler for.
  auto greeter = system.spawn([](troupe::Context&) {
    return troupe::behavior(
        [](const Greet& greet) { return "Hello, " + greet.name + "!"; },
        [](const GreetMe& greet) { greet.reply_to.send(Greeting{"Hello again, " + greet.name + "!"}); });
  });

  // main() is not an actor. A ScopedActor lets a plain thread talk to actors: it has a mailbox
  // and a handle, and blocks (with a timeout) until a reply or a message arrives.
  troupe::ScopedActor me(system);

  // 1. A request. The reply type comes from the typed handle. Failures (a timeout, an actor that
  //    has stopped) come back as a value too: a Result holds either the reply or an Error.
  troupe::Result<std::string> reply = me.request(greeter, Greet{"world"});
  if (!reply) {
    std::printf("request failed: %s\n", reply.error().message().c_str());
    return 1;
  }
  std::printf("request  -> %s\n", reply->c_str());

  // 2. A one-way message: send() never blocks and never waits for an answer. The greeter answers
  //    by sending a Greeting to the handle inside the message; receive() waits for it.
  greeter.send(GreetMe{"troupe", me.handle()});
  troupe::Result<Greeting> greeting = me.receive<Greeting>();
  if (!greeting) {
    std::printf("no greeting: %s\n", greeting.error().message().c_str());
    return 1;
  }
  std::printf("message  -> %s\n", greeting->text.c_str());

  const bool ok = *reply == "Hello, world!" && greeting->text == "Hello again, troupe!";
  std::printf("%s\n", ok ? "OK" : "FAILED: unexpected text");
  return ok ? 0 : 1;
}
