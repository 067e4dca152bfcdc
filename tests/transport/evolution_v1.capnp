# The first version of a test schema (node_peer_v1 is built with it); evolution_v2.capnp is the next.
@0xb5c3a0f2e1d49a71;

$import "/capnp/c++.capnp".namespace("evo");

struct Reading {
  sensor @0 :Text;
  value @1 :Int64;
}
