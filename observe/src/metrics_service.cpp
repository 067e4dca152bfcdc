#include "metrics_service.hpp"

#include "web_assets.hpp"

#include <troupe/observe.hpp>

#include <exception>

namespace troupe::observe::detail {

namespace {

constexpr std::string_view plain_text = "text/plain; charset=utf-8";

// The path of a request's target, without its query ("/metrics?x=1" is /metrics).
std::string_view path_of(kj::StringPtr url) {
  const std::string_view target(url.cStr(), url.size());
  return target.substr(0, target.find('?'));
}

// The dashboard's file at `path` ("/" is its page), or none.
const WebAsset* asset_at(std::string_view path) {
  if (path == "/") path = "/index.html";
  for (const WebAsset& asset : web_assets()) {
    if (asset.path == path) return &asset;
  }
  return nullptr;
}

}  // namespace

kj::Promise<void> MetricsService::request(kj::HttpMethod method, kj::StringPtr url, const kj::HttpHeaders&,
                                          kj::AsyncInputStream&, Response& response) {
  const std::string_view path = path_of(url);
  const WebAsset* asset = asset_at(path);
  const bool known = asset != nullptr || path == "/metrics" || path == "/metrics.json";
  if (!known) {
    return reply(response, 404, "Not Found", plain_text,
                 "not found; try / (the dashboard), /metrics or /metrics.json\n");
  }
  if (method != kj::HttpMethod::GET && method != kj::HttpMethod::HEAD) {
    return reply(response, 405, "Method Not Allowed", plain_text, "only GET and HEAD\n");
  }
  if (asset != nullptr) return reply(response, 200, "OK", asset->content_type, std::string(asset->body));
  std::string body;
  try {
    const MetricsSnapshot snapshot = system_.metrics();
    body = path == "/metrics" ? prometheus_text(snapshot) : metrics_json(snapshot);
  } catch (const std::exception& e) {
    return reply(response, 500, "Internal Server Error", plain_text,
                 std::string("cannot take the metrics: ") + e.what() + "\n");
  }
  return reply(response, 200, "OK", path == "/metrics" ? prometheus_content_type : "application/json", std::move(body));
}

kj::Promise<void> MetricsService::reply(Response& response, unsigned status, kj::StringPtr status_text,
                                        std::string_view content_type, std::string body) {
  kj::HttpHeaders headers(headers_);
  const kj::String type = kj::heapString(content_type.data(), content_type.size());
  headers.set(kj::HttpHeaderId::CONTENT_TYPE, type);
  headers.add("Cache-Control", "no-store");  // every answer is a fresh snapshot
  auto stream = response.send(status, status_text, headers, body.size());
  auto text = kj::heapString(body.data(), body.size());
  auto written = stream->write(text.begin(), text.size());
  return written.attach(kj::mv(stream), kj::mv(text));
}

}  // namespace troupe::observe::detail
