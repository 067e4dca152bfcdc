// How an Error crosses the wire. Part of wire_type.hpp, which includes it after the codecs it
// builds on (WireCodec<Errc>, WireCodec<std::string>): include <troupe/transport/wire_type.hpp>.
#pragma once

#include <troupe/error.hpp>
#include <troupe/error_category.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

namespace troupe::transport {

// An Error whose code this node does not know (0, or past kLastErrc: a newer node's code) decodes
// as Errc::unknown_code, its `what` naming the number and keeping the sender's detail: the
// requester learns that the request failed, and the connection stays up. (A bare Errc field in a
// message is refused instead, as WireEnumRange<Errc> says.)
//
// An application error (Errc::application) keeps the same layout, its category and number inside
// the text: "CATEGORY:NUMBER", then ": " and the detail if there is one. A node that registered
// CATEGORY decodes it into that category's error; one that did not, as Errc::unknown_category
// naming both and keeping the detail; an older node that does not know Errc::application, as
// unknown_code with that text.
namespace detail {
constexpr std::size_t decimal_digits(std::int32_t v) noexcept {
  std::size_t n = v < 0 ? 2 : 1;  // a sign, and the last digit
  for (auto u = v < 0 ? -static_cast<std::int64_t>(v) : static_cast<std::int64_t>(v); u >= 10; u /= 10) ++n;
  return n;
}
// The text of an application error on the wire.
std::string application_error_text(const Error& e);
// The error an application error's text decodes into.
Error application_error_from_wire(std::string text);
}  // namespace detail

template <>
struct WireCodec<Error> {
  static std::size_t size(const Error& e) noexcept {
    std::size_t text = e.what.size();
    if (e.code == Errc::application && e.category() != nullptr) {
      text = e.category()->name().size() + 1 + detail::decimal_digits(e.value()) + (e.what.empty() ? 0 : 2 + text);
    }
    return sizeof(Errc) + 4 + text;
  }
  static void encode(WireWriter& w, const Error& e) {
    WireCodec<Errc>::encode(w, e.code);
    if (e.code == Errc::application && e.category() != nullptr) {
      WireCodec<std::string>::encode(w, detail::application_error_text(e));
    } else {
      WireCodec<std::string>::encode(w, e.what);
    }
  }
  static void decode(WireReader& r, Error& e) {
    std::underlying_type_t<Errc> raw{};
    WireCodec<std::underlying_type_t<Errc>>::decode(r, raw);
    std::string what;
    WireCodec<std::string>::decode(r, what);
    if (raw == static_cast<std::underlying_type_t<Errc>>(Errc::application)) {
      e = detail::application_error_from_wire(std::move(what));
      return;
    }
    if (raw >= static_cast<std::underlying_type_t<Errc>>(WireEnumRange<Errc>::first) &&
        raw <= static_cast<std::underlying_type_t<Errc>>(WireEnumRange<Errc>::last)) {
      e = Error{static_cast<Errc>(raw), std::move(what)};
      return;
    }
    e = Error{Errc::unknown_code,
              "error code " + std::to_string(raw) + " from a newer node" + (what.empty() ? "" : ": " + what)};
  }
};

}  // namespace troupe::transport
