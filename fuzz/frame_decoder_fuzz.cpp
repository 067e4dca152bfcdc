// libFuzzer target: arbitrary bytes through the code a connection runs on untrusted input. The
// bytes are a stream: FrameReader (frame_reader.hpp) cuts frames from it, first with the limits
// before authentication (each frame read as a hello or proof), then, over the same bytes, with the
// limits after it (each frame handled as Connection::handle reads it, envelopes decoded with the
// declared types' decoders, envelope_decoder.hpp). Any kj::Exception is a refused input; a crash,
// a leak or undefined behaviour is a bug.
#include "envelope_decoder.hpp"
#include "frame_reader.hpp"
#include "memory_input.hpp"

#include "transport/wire_messages.hpp"  // declared types with strings, vectors and empty ones

#include <kj/async.h>
#include <kj/debug.h>

#include <cstddef>
#include <cstdint>

namespace {

using namespace troupe::transport;
using namespace troupe::transport::detail;

// As connection.cpp: a handshake frame is one small segment; later frames are bounded by the
// default NodeConfig::max_frame_bytes in at most 64 segments.
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

void read_session_frame(capnp::MessageReader& frame) {
  auto root = frame.getRoot<wire::Frame>();
  switch (root.which()) {
    case wire::Frame::ENVELOPES:
      for (auto in : root.getEnvelopes()) {
        const troupe::EnvelopeKind kind = envelope_kind(in.getKind());
        (void)in.getSender();
        (void)in.getReceiver();
        (void)in.getRequestId();
        if (const WireTypeInfo* info = envelope_type(in)) {
          troupe::dispose(decode_envelope_payload(*info, kind, in));
        }
      }
      return;
    case wire::Frame::LOOKUP: {
      auto lookup = root.getLookup();
      (void)lookup.getLookupId();
      const std::string name = lookup.getName();
      return;
    }
    case wire::Frame::LOOKUP_REPLY: {
      auto reply = root.getLookupReply();
      (void)reply.getLookupId();
      (void)reply.getFound();
      (void)reply.getActorId();
      return;
    }
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
  read_frames(wait, data, size, kSessionLimits, read_session_frame);
  return 0;
}
