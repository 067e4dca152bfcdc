// The dashboard's files, built into the library (cmake/EmbedFiles.cmake): / is the page, and
// every file it loads is served byte for byte as it is in observe/web/, with its content type;
// files not embedded are not served.
#include <troupe/troupe.hpp>

#include "http_get.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

using namespace troupe_test;

namespace {

std::string source_file(const std::string& path) {
  std::ifstream in(std::string(TROUPE_OBSERVE_WEB_DIR) + "/" + path, std::ios::binary);
  REQUIRE(in);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

}  // namespace

TEST_CASE("dashboard: / is the page, and its files are served as they are in observe/web/") {
  troupe::System system({.workers = 1, .metrics_address = "127.0.0.1:0"});
  const std::string address = system.metrics_address();

  const HttpReply page = http_get(address, "/");
  CHECK(page.status == 200);
  CHECK(page.content_type == "text/html; charset=utf-8");
  CHECK(page.body == source_file("index.html"));
  CHECK(page.body.find("dashboard.js") != std::string::npos);

  struct Expected {
    const char* path;
    const char* content_type;
  };
  for (const Expected& file :
       {Expected{"index.html", "text/html; charset=utf-8"}, Expected{"dashboard.js", "text/javascript; charset=utf-8"},
        Expected{"dashboard.css", "text/css; charset=utf-8"},
        Expected{"vendor/uplot/uPlot.iife.min.js", "text/javascript; charset=utf-8"},
        Expected{"vendor/uplot/uPlot.min.css", "text/css; charset=utf-8"},
        Expected{"vendor/uplot/LICENSE", "text/plain; charset=utf-8"}}) {
    CAPTURE(file.path);
    const HttpReply reply = http_get(address, std::string("/") + file.path);
    CHECK(reply.status == 200);
    CHECK(reply.content_type == file.content_type);
    CHECK(reply.body == source_file(file.path));  // byte for byte, the minified script included
  }
  CHECK(http_get(address, "/vendor/uplot/README.md").status == 404);  // in the directory, not embedded
  CHECK(http_get(address, "/index.html/").status == 404);
}
