#include "cluster/etcd_json.hpp"

#include "plain_failure.hpp"

#include <kj/encoding.h>
#include <kj/exception.h>

#include <nlohmann/json.hpp>

#include <string.h>  // memrchr
#include <algorithm>

namespace troupe::transport::detail::etcd_json {
namespace {

using nlohmann::json;

std::string base64(std::string_view bytes) {
  const kj::String text = kj::encodeBase64(kj::arrayPtr(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size()));
  return std::string(text.cStr(), text.size());
}

std::string from_base64(const json& text, const char* field) {
  if (!text.is_string()) fail_plainly(std::string("etcd's answer has a ") + field + " that is not a string");
  const auto& s = text.get_ref<const std::string&>();
  auto bytes = kj::decodeBase64(kj::arrayPtr(s.data(), s.size()));
  if (bytes.hadErrors) fail_plainly(std::string("etcd's answer has a ") + field + " that is not base64");
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

// An int64 field: a JSON string of digits (proto3's mapping) or a number; 0 when left out.
std::int64_t int_field(const json& object, const char* field) {
  const auto it = object.find(field);
  if (it == object.end() || it->is_null()) return 0;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    std::size_t used = 0;
    long long value = 0;
    try {
      value = std::stoll(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == s.size() && used > 0) return value;
  }
  fail_plainly(std::string("etcd's answer has a field ") + field + " that is not an integer");
}

bool bool_field(const json& object, const char* field) {
  const auto it = object.find(field);
  if (it == object.end() || it->is_null()) return false;
  if (!it->is_boolean()) fail_plainly(std::string("etcd's answer has a field ") + field + " that is not true or false");
  return it->get<bool>();
}

// The error an answer states: {"error": "text", "message": "text", ...} from a call, or
// {"error": {"message": "text", ...}} inside a stream.
std::optional<std::string> stated_error(const json& answer) {
  const auto it = answer.find("error");
  if (it == answer.end() || it->is_null()) return std::nullopt;
  const json& error = *it;
  const json& holder = error.is_object() ? error : answer;
  const auto message = holder.find("message");
  if (message != holder.end() && message->is_string() && !message->get_ref<const std::string&>().empty()) {
    return message->get<std::string>();
  }
  if (error.is_string()) return error.get<std::string>();
  return error.dump();
}

json parse_object(std::string_view text) {
  json answer = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (answer.is_discarded() || !answer.is_object()) {
    std::string shown(text.substr(0, 200));
    fail_plainly("etcd's answer is not a JSON object: '" + shown + (text.size() > 200 ? "...'" : "'"));
  }
  if (auto error = stated_error(answer)) fail_plainly("etcd answered with an error: " + *error);
  return answer;
}

EtcdKeyValue read_kv(const json& kv) {
  if (!kv.is_object()) fail_plainly("etcd's answer has a key-value that is not an object");
  EtcdKeyValue out;
  const auto key = kv.find("key");
  if (key == kv.end()) fail_plainly("etcd's answer has a key-value without a key");
  out.key = from_base64(*key, "key");
  if (const auto value = kv.find("value"); value != kv.end()) out.value = from_base64(*value, "value");
  out.create_revision = int_field(kv, "create_revision");
  out.mod_revision = int_field(kv, "mod_revision");
  out.lease = int_field(kv, "lease");
  return out;
}

std::int64_t header_revision(const json& answer) {
  const auto header = answer.find("header");
  if (header == answer.end() || !header->is_object()) fail_plainly("etcd's answer has no header");
  return int_field(*header, "revision");
}

// The "result" of a streamed message.
const json& stream_result(const json& message) {
  const auto result = message.find("result");
  if (result == message.end() || !result->is_object()) fail_plainly("etcd's streamed answer has no result");
  return *result;
}

}  // namespace

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (end.empty()) return std::string(1, '\0');
  end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

std::string put_request(std::string_view key, std::string_view value, std::int64_t lease) {
  json body = {{"key", base64(key)}, {"value", base64(value)}};
  if (lease != 0) body["lease"] = std::to_string(lease);
  return body.dump();
}

std::string delete_request(std::string_view key) { return json{{"key", base64(key)}}.dump(); }

std::string range_prefix_request(std::string_view prefix) {
  // etcd refuses an empty key: every key is from "\0" (the least key) to range_end "\0" (none).
  return json{{"key", base64(prefix.empty() ? std::string_view("\0", 1) : prefix)},
              {"range_end", base64(prefix_end(prefix))}}
      .dump();
}

std::string create_request(std::string_view key, std::string_view value, std::int64_t lease) {
  json put = {{"key", base64(key)}, {"value", base64(value)}};
  if (lease != 0) put["lease"] = std::to_string(lease);
  const json compare = {{"key", base64(key)}, {"target", "CREATE"}, {"result", "EQUAL"}, {"create_revision", "0"}};
  return json{{"compare", json::array({compare})}, {"success", json::array({json{{"request_put", put}}})}}.dump();
}

std::string remove_if_value_request(std::string_view key, std::string_view value) {
  const json compare = {{"key", base64(key)}, {"target", "VALUE"}, {"result", "EQUAL"}, {"value", base64(value)}};
  const json remove = {{"request_delete_range", {{"key", base64(key)}}}};
  return json{{"compare", json::array({compare})}, {"success", json::array({remove})}}.dump();
}

std::string lease_grant_request(std::int64_t ttl_seconds) { return json{{"TTL", std::to_string(ttl_seconds)}}.dump(); }

std::string lease_request(std::int64_t lease) { return json{{"ID", std::to_string(lease)}}.dump(); }

std::string watch_request(std::string_view prefix, std::int64_t start_revision) {
  json create = {{"key", base64(prefix.empty() ? std::string_view("\0", 1) : prefix)},
                 {"range_end", base64(prefix_end(prefix))}};
  if (start_revision != 0) create["start_revision"] = std::to_string(start_revision);
  return json{{"create_request", create}}.dump();
}

void check_answer(std::string_view text) { parse_object(text); }

std::optional<std::string> error_message(std::string_view text) {
  const json answer = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (answer.is_discarded() || !answer.is_object()) return std::nullopt;
  return stated_error(answer);
}

EtcdRange read_range(std::string_view text) {
  const json answer = parse_object(text);
  EtcdRange range;
  range.revision = header_revision(answer);
  if (const auto kvs = answer.find("kvs"); kvs != answer.end()) {
    if (!kvs->is_array()) fail_plainly("etcd's answer has kvs that are not a list");
    range.kvs.reserve(kvs->size());
    for (const json& kv : *kvs) range.kvs.push_back(read_kv(kv));
  }
  return range;
}

bool read_txn_succeeded(std::string_view text) {
  const json answer = parse_object(text);
  header_revision(answer);  // a transaction's answer always has a header: this is one
  return bool_field(answer, "succeeded");
}

std::int64_t read_lease_granted(std::string_view text) {
  const json answer = parse_object(text);
  const std::int64_t id = int_field(answer, "ID");
  if (id == 0) fail_plainly("etcd's answer to a lease grant has no lease ID");
  return id;
}

std::int64_t read_keepalive_ttl(std::string_view text) {
  const std::size_t end = std::min(text.find('\n'), text.size());
  const json message = parse_object(text.substr(0, end));
  return int_field(stream_result(message), "TTL");
}

std::vector<EtcdWatchEvent> read_watch_message(std::string_view line) {
  const json message = parse_object(line);
  const json& result = stream_result(message);
  if (bool_field(result, "canceled")) {
    std::string why = "etcd cancelled the watch";
    if (const auto reason = result.find("cancel_reason"); reason != result.end() && reason->is_string()) {
      why += ": " + reason->get<std::string>();
    }
    if (const std::int64_t compacted = int_field(result, "compact_revision"); compacted != 0) {
      why += " (the revisions asked for were compacted; the oldest kept is " + std::to_string(compacted) + ")";
    }
    fail_plainly(why);
  }
  std::vector<EtcdWatchEvent> events;
  const auto list = result.find("events");
  if (list == result.end()) return events;  // created, or a progress notification
  if (!list->is_array()) fail_plainly("etcd's watch message has events that are not a list");
  events.reserve(list->size());
  for (const json& e : *list) {
    if (!e.is_object()) fail_plainly("etcd's watch message has an event that is not an object");
    EtcdWatchEvent event;
    const auto type = e.find("type");
    if (type == e.end() || *type == "PUT") {
      event.type = EtcdWatchEvent::Type::put;  // PUT is proto3's default, left out
    } else if (*type == "DELETE") {
      event.type = EtcdWatchEvent::Type::remove;
    } else {
      fail_plainly("etcd's watch message has an event of unknown type " + type->dump());
    }
    const auto kv = e.find("kv");
    if (kv == e.end()) fail_plainly("etcd's watch message has an event without a key-value");
    event.kv = read_kv(*kv);
    events.push_back(std::move(event));
  }
  return events;
}

void JsonLines::append(const char* data, std::size_t size) {
  if (start_ == buffer_.size()) {  // every line returned: start over
    buffer_.clear();
    start_ = 0;
    unfinished_from_ = 0;
  } else if (start_ > buffer_.size() / 2) {  // drop the returned lines once they are most of it
    buffer_.erase(0, start_);
    unfinished_from_ -= start_;
    start_ = 0;
  }
  const std::size_t old_size = buffer_.size();
  buffer_.append(data, size);
  if (const void* nl = memrchr(data, '\n', size)) {
    unfinished_from_ = old_size + static_cast<std::size_t>(static_cast<const char*>(nl) - data) + 1;
  }
  if (buffer_.size() - unfinished_from_ > limit_) {
    fail_plainly("a streamed object is longer than the limit of " + std::to_string(limit_) + " bytes");
  }
}

std::optional<std::string> JsonLines::next() {
  while (start_ < unfinished_from_) {
    const std::size_t nl = buffer_.find('\n', start_);  // there is one before unfinished_from_
    std::string line = buffer_.substr(start_, nl - start_);
    start_ = nl + 1;
    if (line.size() > limit_) {
      fail_plainly("a streamed object is longer than the limit of " + std::to_string(limit_) + " bytes");
    }
    if (line.find_first_not_of(" \t\r") != std::string::npos) return line;
  }
  return std::nullopt;
}

std::string JsonLines::take_rest() {
  std::string rest = buffer_.substr(start_);
  buffer_.clear();
  start_ = 0;
  unfinished_from_ = 0;
  return rest;
}

}  // namespace troupe::transport::detail::etcd_json
