// The metrics exporter (troupe::observe, linked by troupe::troupe): the renderings of a
// MetricsSnapshot (<troupe/metrics.hpp>) that System::serve_metrics serves over HTTP.
//
//   GET /metrics       prometheus_text(system.metrics()), Prometheus text exposition format 0.0.4
//   GET /metrics.json  metrics_json(system.metrics()), the snapshot as JSON (docs/observe.md)
//
// Both are pure functions of the snapshot, for users' own exporters too: push the text to a
// Pushgateway, write the JSON to a log, serve either from an HTTP server of their own.
#pragma once

#include <troupe/metrics.hpp>

#include <string>
#include <string_view>

namespace troupe::observe {

// The Content-Type of prometheus_text's output.
inline constexpr std::string_view prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";

// Every metric of the snapshot in Prometheus text format 0.0.4: names prefixed troupe_, in base
// units (seconds, bytes), counters ending in _total, each family with its HELP and TYPE lines
// (docs/observe.md lists them). A family with no sample (no peers, say) is left out.
std::string prometheus_text(const MetricsSnapshot& snapshot);

// The snapshot as a JSON object, field for field (docs/observe.md gives its shape).
std::string metrics_json(const MetricsSnapshot& snapshot);

}  // namespace troupe::observe
