#include "frame_codec.hpp"

#include <troupe/transport/wire_type.hpp>

#include <kj/debug.h>

#include <string>
#include <type_traits>

namespace troupe::transport::detail {
namespace {

// The actors' signal kinds are the wire's, one for one: a kind crosses as its number.
template <SignalKind local, wire::SignalKind remote>
constexpr bool same_kind = static_cast<unsigned>(local) == static_cast<unsigned>(remote);
static_assert(same_kind<SignalKind::link, wire::SignalKind::LINK> &&
              same_kind<SignalKind::unlink, wire::SignalKind::UNLINK> &&
              same_kind<SignalKind::monitor, wire::SignalKind::MONITOR> &&
              same_kind<SignalKind::demonitor, wire::SignalKind::DEMONITOR> &&
              same_kind<SignalKind::exit, wire::SignalKind::EXIT> &&
              same_kind<SignalKind::down, wire::SignalKind::DOWN>);

wire::SignalKind to_wire(SignalKind kind) { return static_cast<wire::SignalKind>(kind); }

SignalKind from_wire(wire::SignalKind kind) {
  KJ_REQUIRE(static_cast<unsigned>(kind) <= static_cast<unsigned>(SignalKind::down),
             "unknown signal kind (a newer protocol?)");
  return static_cast<SignalKind>(kind);
}

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

FrameBuilder new_frame() { return kj::heap<capnp::MallocMessageBuilder>(); }

}  // namespace

FrameBuilder hello_frame(const HelloFields& hello) {
  auto frame = new_frame();
  auto h = frame->initRoot<wire::Frame>().initHello();
  h.setProtocolVersion(wire::PROTOCOL_VERSION);
  h.setNodeName(hello.node_name);
  h.setNonce(kj::arrayPtr(hello.nonce.data(), hello.nonce.size()));
  h.setListenHost(hello.listen_host);
  h.setListenPort(hello.listen_port);
  h.setMaxFrameBytes(hello.max_frame_bytes);
  return frame;
}

FrameBuilder proof_frame(const Mac& mac) {
  auto frame = new_frame();
  frame->initRoot<wire::Frame>().initProof().setMac(kj::arrayPtr(mac.data(), mac.size()));
  return frame;
}

FrameBuilder incarnation_frame(std::uint64_t incarnation) {
  auto frame = new_frame();
  frame->initRoot<wire::Frame>().setIncarnation(incarnation);
  return frame;
}

FrameBuilder duplicate_name_frame() {
  auto frame = new_frame();
  frame->initRoot<wire::Frame>().setDuplicateName();
  return frame;
}

FrameBuilder heartbeat_frame(const HeartbeatTimes& times) {
  auto frame = new_frame();
  auto heartbeat = frame->initRoot<wire::Frame>().initHeartbeat();
  auto out = heartbeat.initTimes();
  out.setSentAt(times.sent_at);
  out.setEchoedSentAt(times.echoed_sent_at);
  out.setEchoDelay(times.echo_delay);
  return frame;
}

HeartbeatTimes read_heartbeat(wire::Frame::Heartbeat::Reader heartbeat) {
  if (!heartbeat.hasTimes()) return {};
  auto in = heartbeat.getTimes();
  return {in.getSentAt(), in.getEchoedSentAt(), in.getEchoDelay()};
}

FrameBuilder control_frame(const Control& control) {
  auto frame = new_frame();
  auto root = frame->initRoot<wire::Frame>();
  std::visit(Overloaded{[&](const Grant& g) {
                          auto grant = root.initGrant();
                          grant.setEnvelopes(g.envelopes);
                          grant.setBytes(g.bytes);
                        },
                        [&](const Lookup& l) {
                          auto lookup = root.initLookup();
                          lookup.setLookupId(l.id);
                          lookup.setName(l.name);
                        },
                        [&](const LookupReply& r) {
                          auto reply = root.initLookupReply();
                          reply.setLookupId(r.id);
                          reply.setFound(r.found);
                          reply.setActorId(r.actor_id);
                        }},
             control);
  return frame;
}

FrameBuilder signal_frame(const WireSignal& out) {
  auto frame = new_frame();
  auto signal = frame->initRoot<wire::Frame>().initSignal();
  signal.setKind(to_wire(out.kind));
  signal.setFrom(out.from);
  signal.setTo(out.to);
  signal.setRef(out.ref);
  auto reason = signal.initReason();
  reason.setKind(static_cast<std::uint8_t>(out.reason.kind));
  reason.setMessage(out.reason.message);
  signal.setLinked(out.exit_flags.linked);
  signal.setUntrappable(out.exit_flags.untrappable);
  return frame;
}

Grant read_grant(wire::Grant::Reader grant) { return Grant{grant.getEnvelopes(), grant.getBytes()}; }

Lookup read_lookup(wire::Lookup::Reader lookup) {
  return Lookup{lookup.getLookupId(), std::string(lookup.getName().cStr(), lookup.getName().size())};
}

LookupReply read_lookup_reply(wire::LookupReply::Reader reply) {
  return LookupReply{reply.getLookupId(), reply.getFound(), reply.getActorId()};
}

WireSignal read_signal(wire::Signal::Reader in) {
  WireSignal signal;
  signal.kind = from_wire(in.getKind());
  signal.from = in.getFrom();
  signal.to = in.getTo();
  signal.ref = in.getRef();
  // Only exits and downs carry a reason (a newer kind of reason reads as an error).
  if (signal.kind == SignalKind::exit || signal.kind == SignalKind::down) {
    const auto r = in.getReason();
    signal.reason = exit_reason_from_wire(r.getKind(), std::string(r.getMessage().cStr()));
  }
  signal.exit_flags = ExitFlags{.linked = in.getLinked(), .untrappable = in.getUntrappable()};
  return signal;
}

}  // namespace troupe::transport::detail
