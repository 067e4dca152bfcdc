# The second version of evolution_v1.capnp (same file id: the same schema, one field later): the
# test and node_peer are built with it.
@0xb5c3a0f2e1d49a71;

$import "/capnp/c++.capnp".namespace("evo");

struct Reading {
  sensor @0 :Text;
  value @1 :Int64;
  scale @2 :Int32 = 10;   # added in v2; an older sender's message reads as 10
}
