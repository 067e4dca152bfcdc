// troupe-node: one node of a troupe cluster, in a process of its own.
//
//   troupe-node --generate-secret cluster.secret                       (once, for the whole cluster)
//   troupe-node --name a --listen 127.0.0.1:7001 --secret-file cluster.secret --word-count
//   troupe-node --name b --secret-file cluster.secret --seed 127.0.0.1:7001
//   troupe-node --name c --secret-file cluster.secret --seed 127.0.0.1:7001
//
// With --seed, a node joins the cluster through that member (cluster.hpp) and learns every other
// member from it; with --etcd HOST:PORT, through the etcd that keeps the members; with neither, it
// is the cluster's first member, or, with --peer NAME=HOST:PORT, a node of a static list. Every node hosts the example
// actor types (the word counter, spawnable by name from other nodes). A node without --word-count serves until SIGINT
// or SIGTERM, then leaves the cluster gracefully (its peers see it leave, not go down); with it, the node coordinates
// the distributed word count and exits with its result (0 when the count was verified, printing "cluster: OK"): over
// the members, recruited as they join (seeds), or over its --peer list. SIGINT or SIGTERM abandons the count (status
// 1), and the node leaves. With --metrics HOST:PORT the node serves its metrics (/metrics for Prometheus,
// /metrics.json) and the dashboard (/) there, and prints the address.
#include "word_count.hpp"

#include <troupe/troupe.hpp>

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct Address {
  std::string host;
  std::uint16_t port = 0;
};

// "host:port" (the host may be empty for 127.0.0.1).
bool parse_address(const std::string& text, Address& out) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  out.host = colon == 0 ? "127.0.0.1" : text.substr(0, colon);
  try {
    const unsigned long port = std::stoul(text.substr(colon + 1));
    if (port > 65535) return false;
    out.port = static_cast<std::uint16_t>(port);
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"troupe-node: one node of a troupe cluster"};
  std::string name;
  std::string listen = "127.0.0.1:0";
  std::string advertise;
  std::string listen_unix;
  std::string secret_file;
  std::string generate_secret;
  std::vector<std::string> peers;
  std::vector<std::string> seeds;
  std::string etcd;
  std::string etcd_prefix = troupe::transport::EtcdDiscovery{}.prefix;
  bool word_count = false;
  word_count::RunOptions run;
  unsigned workers = 0;
  std::string metrics;
  // Required unless --generate-secret (checked after parsing).
  app.add_option("--name", name, "this node's name, unique in the cluster");
  app.add_option("--generate-secret", generate_secret,
                 "write a new random secret (256 bits, hex) to this file, mode 0600, and exit; an existing "
                 "file is never replaced");
  app.add_option("--listen", listen, "HOST:PORT to listen on (port 0: any free port)")->capture_default_str();
  app.add_option("--advertise", advertise,
                 "HOST other nodes should dial to reach this one (default: the --listen host; for a "
                 "wildcard such as 0.0.0.0, this node's address on each connection)");
  app.add_option("--listen-unix", listen_unix,
                 "also listen on this Unix-domain socket path (peers on this host: --peer NAME=unix:PATH)");
  app.add_option("--secret-file", secret_file,
                 "file holding the cluster's shared secret, mode 0600 (default: $TROUPE_SECRET)");
  troupe::transport::TlsConfig tls;
  auto* tls_cert = app.add_option("--tls-cert", tls.certificate_chain_file, "TLS: this node's certificate chain (PEM)")
                       ->check(CLI::ExistingFile);
  auto* tls_key =
      app.add_option("--tls-key", tls.private_key_file, "TLS: this node's private key (PEM)")->check(CLI::ExistingFile);
  auto* tls_ca =
      app.add_option("--tls-ca", tls.trusted_ca_file, "TLS: the CA that signs every node's certificate (PEM)")
          ->check(CLI::ExistingFile);
  tls_cert->needs(tls_key, tls_ca);
  tls_key->needs(tls_cert, tls_ca);
  tls_ca->needs(tls_cert, tls_key);
  app.add_option("--peer", peers, "NAME=HOST:PORT or NAME=unix:PATH of another node (repeatable)");
  app.add_option("--seed", seeds,
                 "HOST:PORT (or NAME@HOST:PORT) of any member of the cluster to join (repeatable); without "
                 "--seed or --peer, this node is the cluster's first member");
  app.add_option("--etcd", etcd, "HOST:PORT of an etcd (v3) that keeps the cluster's members, instead of seeds");
  app.add_option("--etcd-prefix", etcd_prefix, "the cluster's key prefix in etcd")->capture_default_str();
  app.add_option("--workers", workers, "troupe worker threads (default: one per core)");
  app.add_option("--metrics", metrics,
                 "HOST:PORT to serve metrics on: /metrics (Prometheus), /metrics.json and the dashboard at / "
                 "(port 0: any free port)");
  app.add_flag("--word-count", word_count, "coordinate the distributed word count over the peers, then exit");
  unsigned rounds = 1;
  app.add_option("--rounds", rounds, "with --word-count: run it this many times (0: until SIGINT or SIGTERM)")
      ->capture_default_str();
  app.add_option("--counters-per-node", run.counters_per_node, "word counters spawned on each peer")
      ->capture_default_str();
  app.add_option("--chunks", run.chunks, "chunks in the generated corpus")->capture_default_str();
  app.add_option("--words-per-chunk", run.words_per_chunk, "words per chunk")->capture_default_str();
  app.add_option("--pace-ms", run.pace_ms, "each chunk takes a counter at least this long (to watch a run)")
      ->capture_default_str();
  app.add_option("--corpus-seed", run.seed, "the random seed of the generated corpus")->capture_default_str();
  app.add_flag("--expect-node-down", run.expect_node_down,
               "verified only if a node went down mid-run and its chunks were counted elsewhere");
  app.add_flag("--expect-leave", run.expect_leave, "verified only if a worker node left the cluster mid-run");
  app.add_option("--expect-counted-by", run.expect_counted_by,
                 "verified only if this node (one that joins later) counted chunks (repeatable)");
  CLI11_PARSE(app, argc, argv);
  if (!generate_secret.empty()) {
    if (auto made = troupe::transport::generate_secret_file(generate_secret); !made) {
      std::fprintf(stderr, "troupe-node: %s\n", made.error().what.c_str());
      return 1;
    }
    std::printf("troupe-node: wrote a new secret to %s (mode 0600); give every node of the cluster a copy\n",
                generate_secret.c_str());
    return 0;
  }
  if (name.empty()) return app.exit(CLI::RequiredError("--name"));

  Address address;
  if (!parse_address(listen, address)) {
    std::fprintf(stderr, "troupe-node: --listen wants HOST:PORT, got '%s'\n", listen.c_str());
    return 2;
  }
  troupe::Result<std::string> secret = secret_file.empty() ? troupe::transport::load_secret_env("TROUPE_SECRET")
                                                           : troupe::transport::load_secret_file(secret_file);
  if (!secret) {
    std::fprintf(stderr, "troupe-node: no secret (%s): give --secret-file or set TROUPE_SECRET\n",
                 secret.error().message().c_str());
    return 2;
  }

  // SIGINT and SIGTERM are taken by sigwait below, never by a handler: block them before any
  // thread starts, so every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  troupe::Config config;
  if (workers != 0) config.workers = workers;
  troupe::System system(config);
  troupe::transport::NodeConfig node_config;
  node_config.name = name;
  node_config.listen_host = address.host;
  node_config.listen_port = address.port;
  node_config.advertise_host = advertise;
  node_config.listen_unix = listen_unix;
  node_config.secret = *secret;
  node_config.metrics_address = metrics;
  if (!tls.certificate_chain_file.empty()) node_config.tls = tls;
  if ((!peers.empty() ? 1 : 0) + (!seeds.empty() ? 1 : 0) + (!etcd.empty() ? 1 : 0) > 1) {
    std::fprintf(stderr, "troupe-node: give one of --seed, --etcd (a cluster) or --peer (a static list)\n");
    return 2;
  }
  // No --peer: a cluster, joined through the seeds (none: this node is its first member) or etcd.
  const bool clustered = peers.empty();
  if (!etcd.empty()) {
    troupe::transport::EtcdDiscovery discovery;
    discovery.endpoint = etcd;
    discovery.prefix = etcd_prefix;
    node_config.discovery = discovery;
  } else if (clustered) {
    node_config.discovery = troupe::transport::SeedDiscovery{seeds};
  }
  // A node that cannot start (a weak secret, a port in use, a bad TLS file) says why and exits.
  std::unique_ptr<troupe::transport::Node> started;
  try {
    started = std::make_unique<troupe::transport::Node>(system, node_config);
  } catch (const std::exception& e) {  // runtime_error, or invalid_argument for a malformed seed
    std::fprintf(stderr, "troupe-node: %s\n", e.what());
    return 2;
  }
  troupe::transport::Node& node = *started;
  word_count::register_counter(node);

  for (const std::string& peer : peers) {
    const auto eq = peer.find('=');
    const std::string where = eq == std::string::npos ? std::string() : peer.substr(eq + 1);
    Address at;
    if (eq != 0 && where.rfind("unix:", 0) == 0 && where.size() > 5) {
      node.add_peer_unix(peer.substr(0, eq), where.substr(5));
    } else if (eq == std::string::npos || eq == 0 || !parse_address(where, at)) {
      std::fprintf(stderr, "troupe-node: --peer wants NAME=HOST:PORT or NAME=unix:PATH, got '%s'\n", peer.c_str());
      return 2;
    } else {
      node.add_peer(peer.substr(0, eq), at.host, at.port);
    }
    run.worker_nodes.push_back(peer.substr(0, eq));
  }
  std::printf("node %s listening on %s:%u\n", name.c_str(), address.host.c_str(), static_cast<unsigned>(node.port()));
  if (!system.metrics_address().empty()) {
    std::printf("node %s metrics on http://%s/metrics\n", name.c_str(), system.metrics_address().c_str());
  }
  std::fflush(stdout);

  if (clustered) {
    // A duplicate name is refused at join; say so and stop rather than serve outside the cluster.
    if (troupe::Result<void> up = node.cluster().wait_up(); !up && up.error().code == troupe::Errc::name_taken) {
      std::fprintf(stderr, "troupe-node: cannot join the cluster: %s\n", up.error().what.c_str());
      return 1;
    }
  }
  // A graceful leave: every member hears this node is leaving, then that it left (no node-down).
  auto leave = [&node, clustered] {
    if (clustered) (void)node.cluster().leave();
  };
  if (word_count) {
    run.recruit = clustered;
    run.stop_signals = &stop_signals;  // a coordinating node stops when told, too
    // Rounds after the first go on whatever the last one came to (a node down mid-round and every
    // lane gone is a failed round, not the end); a stop signal ends them. The status is the last
    // round's: 0 only if it verified.
    int status = 0;
    for (unsigned round = 1; rounds == 0 || round <= rounds; ++round) {
      if (rounds != 1) std::printf("\nround %u\n", round);
      status = word_count::coordinate(system, node, run);
      if (status == word_count::kAbandoned) {
        status = 1;
        break;
      }
    }
    leave();
    return status;
  }
  int signal = 0;
  sigwait(&stop_signals, &signal);
  std::printf("node %s stopping (%s)%s\n", name.c_str(), signal == SIGINT ? "SIGINT" : "SIGTERM",
              clustered ? ": leaving the cluster" : "");
  std::fflush(stdout);
  leave();
  return 0;
}
