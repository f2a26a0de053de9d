// walletd: the wallet ledger's JSON HTTP API and background worker. See walletd(8).
#include <CLI/CLI.hpp>
#include <csignal>
#include <pthread.h>
#include <sys/resource.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <thread>

#include "cli/options.hpp"
#include "core/domain/version.hpp"
#include "core/store/conninfo.hpp"
#include "core/domain/sha256.hpp"
#include "daemon/api.hpp"
#include "daemon/worker.hpp"

namespace {

using namespace wallet;
using namespace wallet::daemon;

// The daemon answers fast when the database is down (503 + Retry-After):
// a short retry budget, clients retry with their idempotency keys.
constexpr RetryPolicy kRequestRetries{3, std::chrono::milliseconds(10), std::chrono::milliseconds(100)};

void setup_logging(const Config& config) {
  std::shared_ptr<spdlog::logger> logger;
  if (config.log_file.empty()) {
    logger = spdlog::stderr_color_mt("walletd");
  } else {
    logger = spdlog::basic_logger_mt("walletd", config.log_file);
  }
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z walletd[%P] %l: %v");
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  spdlog::set_level(config.verbose ? spdlog::level::debug : spdlog::level::from_str(config.log_level));
}

// SIGHUP: reopen the log file (after logrotate moved it).
void reopen_log(const Config& config) {
  if (config.log_file.empty()) return;
  auto logger = spdlog::basic_logger_mt("walletd-reopened-" + std::to_string(std::time(nullptr)), config.log_file);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z walletd[%P] %l: %v");
  logger->flush_on(spdlog::level::info);
  logger->set_level(spdlog::default_logger()->level());
  spdlog::set_default_logger(logger);
  spdlog::info("log file reopened");
}

bool parse_listen(const std::string& listen, HttpOptions& http) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  http.host = listen.substr(0, colon);
  try {
    std::size_t used = 0;
    http.port = std::stoi(listen.substr(colon + 1), &used);
    return used == listen.size() - colon - 1 && http.port >= 0 && http.port <= 65535;
  } catch (const std::exception&) {
    return false;
  }
}

// True for an address only this machine can reach.
bool loopback(const std::string& host) {
  return host == "::1" || host.rfind("127.", 0) == 0;
}

// Raises the open-file limit to its hard limit and keeps connections_max
// within it (a connection is one descriptor; the rest is for the database
// sessions, the log and the listener).
int connections_within_limits(int wanted, int sessions) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return wanted;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  const long long reserve = 64 + 2LL * sessions;
  const long long room = static_cast<long long>(limit.rlim_cur) - reserve;
  if (limit.rlim_cur == RLIM_INFINITY || room >= wanted) return wanted;
  const int allowed = static_cast<int>(std::max(1LL, room));
  spdlog::warn("[daemon] connections_max {} is past the open-file limit {}: serving at most {} connections", wanted,
               static_cast<long long>(limit.rlim_cur), allowed);
  return allowed;
}

// walletd hash-token: the hex SHA-256 of the token on stdin (one trailing
// newline dropped), for [[daemon.tokens]] sha256.
int hash_token() {
  std::string token;
  std::getline(std::cin, token);
  if (!token.empty() && token.back() == '\r') token.pop_back();
  std::string rest;
  if (token.empty() || std::getline(std::cin, rest)) {
    std::cerr << "walletd: hash-token reads one non-empty token, on one line, from stdin\n";
    return 2;
  }
  std::cout << sha256_hex(token) << '\n';
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"walletd — the wallet ledger's JSON HTTP API and background worker", "walletd"};
  app.set_version_flag("--version", std::string("walletd ") + kVersion);
  cli::OptionFlags options(app, kWalletd);
  auto* hash = app.add_subcommand("hash-token", "print the hex SHA-256 of a token read from stdin, for [[daemon.tokens]]");
  auto* openapi = app.add_subcommand("openapi", "print the OpenAPI document served at /openapi.json (no database needed)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "walletd: " << e.what() << '\n';
    return 2;
  }
  if (hash->parsed()) return hash_token();
  if (openapi->parsed()) {
    // The same text as docs/openapi.json (tests/unit/openapi_test.cpp).
    std::cout << openapi_document().dump(2) << '\n';
    return 0;
  }

  auto config = load_config(options.given(), [](const char* name) { return std::getenv(name); });
  if (!config.ok()) {
    std::cerr << "walletd: " << config.status().message() << '\n';
    return 2;
  }
  // A connection string that cannot parse would fail every request: refused
  // now, with its passwords redacted.
  for (const std::string* conninfo : {&config->database, &config->read_database}) {
    if (Status checked = check_conninfo(*conninfo); !checked.ok()) {
      std::cerr << "walletd: " << (conninfo == &config->database ? "database" : "read_database") << ": "
                << checked.message() << '\n';
      return 2;
    }
  }
  HttpOptions http;
  if (!parse_listen(config->daemon.listen, http)) {
    std::cerr << "walletd: invalid [daemon] listen \"" << config->daemon.listen << "\": expected HOST:PORT\n";
    return 2;
  }
  if (http.host == "localhost") http.host = "127.0.0.1";
  const DaemonConfig& daemon = config->daemon;
  if (daemon.tokens.empty() && daemon.named_tokens.empty()) {
    std::cerr << "walletd: no [daemon] tokens configured: every request would be refused\n";
    return 2;
  }
  if (!loopback(http.host) && daemon.tls_cert.empty() && !daemon.allow_plaintext) {
    std::cerr << "walletd: [daemon] listen \"" << daemon.listen
              << "\" is reachable from other machines: set tls_cert and tls_key, or allow_plaintext = true "
                 "behind a TLS-terminating proxy\n";
    return 2;
  }
  setup_logging(*config);
  if (!daemon.tokens.empty()) {
    spdlog::warn("[daemon] tokens = [...] (plain tokens, full scope, named token1, token2...) is deprecated: use "
                 "[[daemon.tokens]] with name, sha256 (walletd hash-token) and scopes");
  }
  http.io_threads = daemon.io_threads;
  http.threads = daemon.threads;
  http.body_bytes_max = static_cast<std::size_t>(daemon.body_bytes_max);
  http.request_timeout = daemon.request_timeout;
  http.tls_cert = daemon.tls_cert;
  http.tls_key = daemon.tls_key;
  const int sessions = daemon.pool_size * (config->read_database.empty() ? 1 : 2) + 1;
  http.connections_max = connections_within_limits(daemon.connections_max, sessions);

  // Signals are taken by one thread (sigwait), never by request threads.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  Metrics metrics;
  Pool pool(*config, config->database, config->daemon.pool_size, kRequestRetries);
  // History reads from read_database when one is set (a standby), as walletctl history does.
  std::unique_ptr<Pool> read_pool;
  if (!config->read_database.empty()) {
    read_pool = std::make_unique<Pool>(*config, config->read_database, config->daemon.pool_size, kRequestRetries);
  }
  HttpServer server(http);
  if (Status tls = server.reload_tls(); !tls.ok()) {
    spdlog::critical("{}", tls.message());
    return 2;
  }
  Worker worker(*config, metrics);
  Api api(pool, read_pool.get(), metrics, *config, [&worker](int64_t id) { worker.settle_soon(id); });
  api.install(server);
  server.observe([&metrics](const HttpRequest& r, int status, const std::string& route, double seconds) {
    metrics.request(route, r.method, status, seconds);
    spdlog::info("request {} {} {} {} -> {} in {:.1f} ms", r.request_id, r.remote_address, r.method, r.path, status,
                 seconds * 1000);
  });
  if (Status bound = server.bind(); !bound.ok()) {
    spdlog::critical("{}", bound.message());
    return 1;
  }
  spdlog::info("listening on {}://{}:{} ({} I/O threads, {} handler threads, {} database sessions, at most {} "
               "connections)",
               server.tls() ? "https" : "http", http.host, server.bound_port(), http.io_threads, http.threads,
               pool.size(), http.connections_max);

  std::thread worker_thread([&worker] { worker.run(); });
  std::atomic<bool> stopping{false};
  std::thread signal_thread([&] {
    for (;;) {
      int received = 0;
      sigwait(&signals, &received);
      if (received == SIGHUP) {
        reopen_log(*config);
        if (!http.tls_cert.empty()) {
          Status tls = server.reload_tls();
          if (tls.ok()) spdlog::info("TLS certificate and key reloaded");
          else spdlog::error("{} (the previous certificate stays in use)", tls.message());
        }
        continue;
      }
      spdlog::info("signal {}: draining in-flight requests, then exiting", received);
      stopping = true;
      server.stop();
      worker.stop();
      return;
    }
  });

  server.serve();
  if (!stopping) {
    // The server stopped on its own: wake the signal thread so it can end.
    kill(getpid(), SIGTERM);
  }
  signal_thread.join();
  worker_thread.join();
  spdlog::info("stopped");
  return stopping ? 0 : 1;
}
