#include "http_get.hpp"

#include <kj/async-io.h>
#include <kj/compat/http.h>

#include <stdexcept>

namespace troupe_test {

HttpReply http_request(const std::string& address, const std::string& path, const std::string& method) {
  try {
    kj::AsyncIoContext io = kj::setupAsyncIo();
    kj::HttpHeaderTable table;
    kj::Own<kj::HttpClient> client =
        kj::newHttpClient(io.provider->getTimer(), table, io.provider->getNetwork(), nullptr);
    kj::HttpHeaders headers(table);
    headers.set(kj::HttpHeaderId::HOST, kj::StringPtr(address.c_str()));
    KJ_IF_MAYBE (parsed, kj::tryParseHttpMethod(kj::StringPtr(method.c_str()))) {
      const std::string url = "http://" + address + path;
      auto request = client->request(*parsed, kj::StringPtr(url.c_str()), headers);
      kj::HttpClient::Response response = request.response.wait(io.waitScope);
      HttpReply reply;
      reply.status = response.statusCode;
      KJ_IF_MAYBE (type, response.headers->get(kj::HttpHeaderId::CONTENT_TYPE)) {
        reply.content_type = std::string(type->cStr(), type->size());
      }
      kj::String body = response.body->readAllText().wait(io.waitScope);
      reply.body = std::string(body.cStr(), body.size());
      return reply;
    }
    throw std::runtime_error("unknown HTTP method " + method);
  } catch (const kj::Exception& e) {
    throw std::runtime_error("http " + method + " " + address + path + ": " + e.getDescription().cStr());
  }
}

}  // namespace troupe_test
