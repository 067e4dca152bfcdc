// The dashboard's files (observe/web/), built into the library (cmake/EmbedFiles.cmake writes
// web_assets() from them), so that the page needs nothing beyond the troupe process.
#pragma once

#include <span>
#include <string_view>

namespace troupe::observe::detail {

struct WebAsset {
  std::string_view path;  // "/index.html", "/vendor/uplot/uPlot.iife.min.js", ...
  std::string_view content_type;
  std::string_view body;
};

std::span<const WebAsset> web_assets() noexcept;

}  // namespace troupe::observe::detail
