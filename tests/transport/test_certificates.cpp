#include "test_certificates.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>

namespace transport_test {
namespace {

struct FreeKey {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct FreeCert {
  void operator()(X509* c) const { X509_free(c); }
};
using Key = std::unique_ptr<EVP_PKEY, FreeKey>;
using Cert = std::unique_ptr<X509, FreeCert>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test certificates: ") + what + " failed");
}

Key new_key() {
  Key key(EVP_EC_gen("P-256"));
  check(key != nullptr, "EC key generation");
  return key;
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  check(ext != nullptr, "certificate extension");
  const int added = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  check(added == 1, "adding a certificate extension");
}

// A certificate for `key` named `common_name`, valid for an hour from a minute ago; self-signed
// when `issuer` is null.
Cert new_cert(EVP_PKEY* key, const std::string& common_name, X509* issuer, EVP_PKEY* issuer_key, int serial) {
  Cert cert(X509_new());
  check(cert != nullptr, "X509_new");
  check(X509_set_version(cert.get(), 2) == 1, "X509_set_version");
  check(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial) == 1, "serial number");
  check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60) != nullptr, "notBefore");
  check(X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600) != nullptr, "notAfter");
  check(X509_set_pubkey(cert.get(), key) == 1, "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(cert.get());
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0) == 1,
        "common name");
  X509* signer = issuer != nullptr ? issuer : cert.get();
  check(X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) == 1, "issuer name");
  if (issuer == nullptr) {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
    add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth,clientAuth");
    add_extension(cert.get(), signer, NID_subject_alt_name, ("DNS:" + common_name).c_str());
  }
  check(X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) > 0, "X509_sign");
  return cert;
}

template <class Write>
void write_pem(const std::string& path, Write write) {
  FILE* f = std::fopen(path.c_str(), "w");
  check(f != nullptr, "opening a PEM file");
  const bool ok = write(f);
  std::fclose(f);
  check(ok, "writing a PEM file");
}

void write_key(const std::string& path, EVP_PKEY* key) {
  write_pem(path, [key](FILE* f) { return PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1; });
}

void write_cert(const std::string& path, X509* cert) {
  write_pem(path, [cert](FILE* f) { return PEM_write_X509(f, cert) == 1; });
}

template <class Read>
auto read_pem(const std::string& path, Read read) {
  FILE* f = std::fopen(path.c_str(), "r");
  check(f != nullptr, "opening a PEM file");
  auto value = read(f);
  std::fclose(f);
  check(value != nullptr, "reading a PEM file");
  return value;
}

}  // namespace

TestCertificates::TestCertificates() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/troupe-tls.XXXXXX";
  check(::mkdtemp(pattern.data()) != nullptr, "mkdtemp");
  dir_ = pattern;
}

TestCertificates::~TestCertificates() {
  for (const auto& f : files_) ::unlink(f.c_str());
  ::rmdir(dir_.c_str());
}

troupe::transport::TlsConfig TestCertificates::node(const std::string& ca, const std::string& dns_name) {
  const std::string ca_cert_path = dir_ + "/" + ca + ".ca.pem";
  const std::string ca_key_path = dir_ + "/" + ca + ".ca.key";
  if (std::find(cas_.begin(), cas_.end(), ca) == cas_.end()) {
    Key key = new_key();
    Cert cert = new_cert(key.get(), ca, nullptr, nullptr, serial_++);
    write_key(ca_key_path, key.get());
    write_cert(ca_cert_path, cert.get());
    files_.push_back(ca_key_path);
    files_.push_back(ca_cert_path);
    cas_.push_back(ca);
  }
  Key ca_key(read_pem(ca_key_path, [](FILE* f) { return PEM_read_PrivateKey(f, nullptr, nullptr, nullptr); }));
  Cert ca_cert(read_pem(ca_cert_path, [](FILE* f) { return PEM_read_X509(f, nullptr, nullptr, nullptr); }));

  const std::string base = dir_ + "/" + dns_name + "." + ca + "." + std::to_string(serial_);
  Key key = new_key();
  Cert cert = new_cert(key.get(), dns_name, ca_cert.get(), ca_key.get(), serial_++);
  troupe::transport::TlsConfig config{base + ".pem", base + ".key", ca_cert_path};
  write_cert(config.certificate_chain_file, cert.get());
  write_key(config.private_key_file, key.get());
  files_.push_back(config.certificate_chain_file);
  files_.push_back(config.private_key_file);
  return config;
}

}  // namespace transport_test
