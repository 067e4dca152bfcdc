// Application errors on the wire: category and number inside an Error's text (wire_type.hpp).
#include <troupe/transport/wire_type.hpp>

#include <charconv>
#include <string>

namespace troupe::transport::detail {

std::string application_error_text(const Error& e) {
  std::string text(e.category()->name());
  text += ':';
  text += std::to_string(e.value());
  if (!e.what.empty()) {
    text += ": ";
    text += e.what;
  }
  return text;
}

Error application_error_from_wire(std::string text) {
  // "CATEGORY:NUMBER" or "CATEGORY:NUMBER: DETAIL"; anything else is kept whole as the detail.
  const std::size_t colon = text.find(':');
  std::int32_t value = 0;
  const char* number = text.data() + (colon == std::string::npos ? text.size() : colon + 1);
  const char* end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(number, end, value);
  const bool detail_follows = end - stop >= 2 && stop[0] == ':' && stop[1] == ' ';
  const std::string_view name(text.data(), colon == std::string::npos ? 0 : colon);
  if (colon == std::string::npos || ec != std::errc{} || !troupe::detail::valid_error_category_name(name) ||
      (stop != end && !detail_follows)) {
    return Error{Errc::unknown_category, "an application error that does not say its category: " + text};
  }
  std::string detail = detail_follows ? std::string(stop + 2, end) : std::string();
  if (const ErrorCategory* category = troupe::detail::find_error_category(name)) {
    return Error::in_category(*category, value, std::move(detail));
  }
  std::string what = "category '";
  what += name;
  what += "' (not registered on this node), code ";
  what += std::to_string(value);
  if (!detail.empty()) {
    what += ": ";
    what += detail;
  }
  return Error{Errc::unknown_category, std::move(what)};
}

}  // namespace troupe::transport::detail
