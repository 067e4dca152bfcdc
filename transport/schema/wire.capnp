# troupe's wire format between nodes. Every frame is one Cap'n Proto message whose root is a Frame;
# docs/wire.md specifies it all, the payloads inside envelopes included.
# Versioned: Hello carries protocolVersion; fields are only ever added (Cap'n Proto's evolution
# rules), never renumbered or retyped.
@0xd0b6ae81040aad5a;

$import "/capnp/c++.capnp".namespace("troupe::transport::wire");

# 2: the dialer proves the secret first (handshake.hpp). 3: envelopes number their types
# (Envelope.typeId).
const protocolVersion :UInt16 = 3;

struct Frame {
  union {
    envelopes @0 :List(Envelope);   # many messages per frame, in send order
    hello @1 :Hello;                # handshake, first frame of each side
    proof @2 :Proof;                # handshake, each side's HMAC: the dialer's first (handshake.hpp)
    lookup @3 :Lookup;              # registry lookup by name
    lookupReply @4 :LookupReply;
    # Sent when a connection has been quiet for the heartbeat interval. Once `heartbeat @5 :Void`:
    # the group keeps that field's place, so both forms read as each other (a heartbeat from a
    # node before `times` has none, and its peer measures no round trip).
    heartbeat :group {
      beat @5 :Void;
      times @11 :HeartbeatTimes;
    }
    signal @6 :Signal;              # link, unlink, monitor, demonitor, exit and down across nodes
    incarnation @7 :UInt64;         # each side's first frame after the handshake: which run of the node
    creditV1 @8 :UInt32;            # protocol 1's envelope-only grant; never sent since (see grant)
    # The listener's answer instead of its incarnation: a live node of the dialer's name is
    # connected to it with another incarnation, so this connection is refused (and a dialer sends
    # it to a listener that turns out to be a second node of a name it is connected to).
    duplicateName @9 :Void;
    # Flow control: the receiver lets the sender have this many more envelopes, and bytes, in
    # flight. Each node grants a connection's peer its receive window once authenticated, then
    # grants back what its actors have handled (NodeConfig::receive_window, receive_window_bytes).
    grant @10 :Grant;
  }
}

struct Grant {
  envelopes @0 :UInt32;
  bytes @1 :UInt64;       # as envelopes weigh on the wire (transport/src/envelope_size.hpp)
}

# What a heartbeat carries for the round trip: each side echoes the last heartbeat it heard, and
# how long it held it, so the side that sent it measures now - sentAt - echoDelay on its own clock.
struct HeartbeatTimes {
  sentAt @0 :UInt64;        # the sender's steady clock, ns (only the sender reads it back); 0: none
  echoedSentAt @1 :UInt64;  # sentAt of the last heartbeat the sender heard from the receiver; 0: none
  echoDelay @2 :UInt64;     # ns from that heartbeat's arrival to this one's sending
}

enum Kind {
  message @0;    # one-way
  request @1;    # expects a response to `sender` with the same requestId
  response @2;   # answers request `requestId`; payload is the reply value or a troupe.Error
}

struct Envelope {
  sender @0 :UInt64;       # the requester's actor id on the sending node (requests), else 0
  receiver @1 :UInt64;     # actor id on the receiving node (from a lookup or an earlier request)
  # The name the type was declared with (TROUPE_WIRE_MESSAGE); only in the first envelope of its
  # type on the connection, which gives it the number typeId (transport/src/type_names.hpp).
  messageType @2 :Text;
  payload @3 :Data;        # the value, encoded by its declared fields (docs/wire.md)
  requestId @4 :UInt64;
  kind @5 :Kind;
  typeId @6 :UInt32;       # the type's number on this connection, in this direction: 1, 2, ...
  # Sent urgent (a message or request): the receiving actor handles it before the messages queued
  # ahead of it. In the data section's spare bits: the envelope's size on the wire is unchanged.
  urgent @7 :Bool;
}

struct Hello {
  protocolVersion @0 :UInt16;
  nodeName @1 :Text;
  nonce @2 :Data;          # 32 random bytes
  proof @3 :Data;          # version 1 only (the listener's HMAC); never set since version 2
  listenHost @4 :Text;     # where this node listens, so handles to its actors can name it to others
  listenPort @5 :UInt16;
  # The largest frame this node accepts (NodeConfig::max_frame_bytes): the other side cuts its
  # frames well under it and refuses, at the send, a message that would not fit. 0: not stated.
  maxFrameBytes @6 :UInt64;
}

struct Proof {
  mac @0 :Data;
}

struct Lookup {
  lookupId @0 :UInt64;
  name @1 :Text;
}

struct LookupReply {
  lookupId @0 :UInt64;
  found @1 :Bool;
  actorId @2 :UInt64;
}

# liveness: links, monitors and exit signals between an actor on one node and an actor on another.
enum SignalKind {
  link @0;       # `from` links `to`
  unlink @1;     # `from` unlinks `to`
  monitor @2;    # `from` monitors `to` under `ref`; `to` answers with a down when it stops
  demonitor @3;  # `from` drops monitor `ref` of `to`
  exit @4;       # `from` sends `to` an exit signal with `reason` (linked: because of a link)
  down @5;       # `from`, monitored by `to` under `ref`, stopped with `reason`
}

struct ExitReason {
  kind @0 :UInt8;      # troupe::ExitReason::Kind
  message @1 :Text;
}

struct Signal {
  kind @0 :SignalKind;
  from @1 :UInt64;        # actor id on the sending node (0: no actor)
  to @2 :UInt64;          # actor id on the receiving node
  ref @3 :UInt64;         # the monitor (monitor, demonitor, down)
  reason @4 :ExitReason;  # exit, down
  linked @5 :Bool;        # exit
  untrappable @6 :Bool;   # exit (a kill)
}
