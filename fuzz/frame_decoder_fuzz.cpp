// libFuzzer target: arbitrary bytes through the code a connection runs on untrusted input. The
// bytes are a stream: FrameReader (frame_reader.hpp) cuts frames from it, first with the limits
// before authentication (each frame read as a hello or proof), then, over the same bytes, with the
// limits after it (each frame handled as Connection::handle reads it: envelopes' types resolved by
// their numbers (type_names.hpp) and their payloads decoded with the declared types' decoders
// (envelope_decoder.hpp), handles in them read as the node reads them (handle_codec.hpp); lookups,
// their replies, signals and grants read by frame_codec.hpp). Any
// kj::Exception is a refused input; a crash, a leak or undefined behaviour is a bug.
#include "envelope_decoder.hpp"
#include "frame_codec.hpp"
#include "frame_reader.hpp"
#include "handle_codec.hpp"
#include "memory_input.hpp"
#include "type_names.hpp"

#include "transport/wire_messages.hpp"  // declared types with strings, vectors and empty ones

#include <kj/async.h>
#include <kj/debug.h>

#include <cstddef>
#include <cstdint>

namespace {

using namespace troupe::transport;
using namespace troupe::transport::detail;

// As connection_handshake.cpp and connection.cpp: a handshake frame is one small segment; later
// frames are bounded by the default NodeConfig::max_frame_bytes in at most 64 segments.
constexpr FrameLimits kHandshakeLimits{1, 1024};
constexpr FrameLimits kSessionLimits{64, 16u << 20};  // NodeConfig::max_frame_bytes by default

void read_handshake_frame(capnp::MessageReader& frame) {
  auto root = frame.getRoot<wire::Frame>();
  if (root.isHello()) {
    auto hello = root.getHello();
    (void)hello.getProtocolVersion();
    const std::string name = hello.getNodeName();
    (void)hello.getNonce().size();
    (void)hello.getProof().size();
  } else if (root.isProof()) {
    (void)root.getProof().getMac().size();
  }
}

// Handles read as a node reads them (read_actor_ref, the untrusted part); each decodes as an empty
// handle, since resolving a reference needs a node and its peers.
class ReadingHandleCodec final : public HandleCodec {
 public:
  void encode(WireWriter&, troupe::runtime::ActorCore*) override { throw WireError("the fuzz target never encodes"); }
  troupe::runtime::ActorCore* decode(WireReader& r) override {
    (void)read_actor_ref(r);
    return nullptr;
  }
};

void read_session_frame(IncomingTypeNames& names, capnp::MessageReader& frame) {
  auto root = frame.getRoot<wire::Frame>();
  switch (root.which()) {
    case wire::Frame::ENVELOPES:
      for (auto in : root.getEnvelopes()) {
        const IncomingTypeNames::Type& type = names.resolve(in);
        const troupe::EnvelopeKind kind = envelope_kind(in.getKind());
        (void)in.getSender();
        (void)in.getReceiver();
        (void)in.getRequestId();
        if (type.info != nullptr) {
          ReadingHandleCodec handles;
          troupe::dispose(decode_envelope_payload(*type.info, kind, in, &handles));
        }
      }
      return;
    case wire::Frame::LOOKUP:
      (void)read_lookup(root.getLookup());
      return;
    case wire::Frame::LOOKUP_REPLY:
      (void)read_lookup_reply(root.getLookupReply());
      return;
    case wire::Frame::SIGNAL:
      (void)read_signal(root.getSignal());
      return;
    case wire::Frame::GRANT:
      (void)read_grant(root.getGrant());
      return;
    default:
      return;
  }
}

template <class Handle>
void read_frames(kj::WaitScope& wait, const std::uint8_t* data, std::size_t size, FrameLimits limits, Handle handle) {
  MemoryInput in(data, size);
  FrameReader reader(in);
  try {
    for (;;) {
      ReadFrame read = reader.next(limits).wait(wait);
      if (read.message.get() == nullptr) return;  // the end of the bytes, between frames
      handle(*read.message);
    }
  } catch (const kj::Exception&) {
    // A refused frame: the connection would close here.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kj::EventLoop loop;
  kj::WaitScope wait(loop);
  read_frames(wait, data, size, kHandshakeLimits, read_handshake_frame);
  IncomingTypeNames names;  // one connection's
  read_frames(wait, data, size, kSessionLimits, [&](capnp::MessageReader& frame) { read_session_frame(names, frame); });
  return 0;
}
