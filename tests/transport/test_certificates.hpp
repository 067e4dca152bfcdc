// Throwaway certificates for the TLS tests, made with OpenSSL's C API in a fresh temporary
// directory that the destructor removes with everything in it.
//
//   TestCertificates pki;
//   troupe::transport::TlsConfig tls = pki.node("ca-1", "tls-a");  // CA "ca-1" made on first use
#pragma once

#include <troupe/transport/node.hpp>

#include <string>
#include <vector>

namespace transport_test {

class TestCertificates {
 public:
  TestCertificates();   // a fresh directory under $TMPDIR (or /tmp)
  ~TestCertificates();  // removes it
  TestCertificates(const TestCertificates&) = delete;
  TestCertificates& operator=(const TestCertificates&) = delete;

  // Files for a node: an EC P-256 key and a certificate for `dns_name` (subjectAltName DNS and
  // common name) signed by the CA named `ca` (created on first use), and that CA's certificate.
  troupe::transport::TlsConfig node(const std::string& ca, const std::string& dns_name);

  const std::string& directory() const noexcept { return dir_; }

 private:
  std::string dir_;
  std::vector<std::string> files_;
  std::vector<std::string> cas_;  // names of the CAs made so far
  int serial_ = 1;
};

}  // namespace transport_test
