// walletd: the wallet ledger's JSON HTTP API and background worker. See walletd(8).
#include <CLI/CLI.hpp>
#include <csignal>
#include <pthread.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <thread>

#include "core/domain/version.hpp"
#include "core/store/conninfo.hpp"
#include "daemon/api.hpp"
#include "reconcile/reconcile.hpp"

namespace {

using namespace wallet;
using namespace wallet::daemon;

// The daemon answers fast when the database is down (503 + Retry-After):
// a short retry budget, clients retry with their idempotency keys.
constexpr RetryPolicy kRequestRetries{3, std::chrono::milliseconds(10), std::chrono::milliseconds(100)};
// Stuck transactions the worker handles per round; the rest wait a round.
constexpr int kWorkerBatch = 100;

struct Options {
  std::string config_file;
  std::string database;
  std::string log_file;
  bool no_prepared_statements = false;
  bool verbose = false;
};

void setup_logging(const Options& o, const Config& config) {
  std::shared_ptr<spdlog::logger> logger;
  if (o.log_file.empty()) {
    logger = spdlog::stderr_color_mt("walletd");
  } else {
    logger = spdlog::basic_logger_mt("walletd", o.log_file);
  }
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z walletd[%P] %l: %v");
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  spdlog::set_level(o.verbose ? spdlog::level::debug : spdlog::level::from_str(config.log_level));
}

// SIGHUP: reopen the log file (after logrotate moved it).
void reopen_log(const Options& o) {
  if (o.log_file.empty()) return;
  auto logger = spdlog::basic_logger_mt("walletd-reopened-" + std::to_string(std::time(nullptr)), o.log_file);
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

// Every worker_interval: the same retry as `walletctl retry` (settlement
// re-drives, expired holds), and the stuck count for /metrics.
class Worker {
 public:
  Worker(const Config& config, Metrics& metrics) : config_(config), metrics_(metrics) {}

  void run() {
    Store store(config_.database, RetryPolicy{}, StoreOptions{config_.prepared_statements});
    Ledger ledger(store, config_);
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      round(store, ledger);
      lock.lock();
      wake_.wait_for(lock, config_.daemon.worker_interval, [this] { return stopping_; });
    }
  }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
  }

 private:
  void round(Store& store, Ledger& ledger) {
    auto report = retry(store, ledger.settlement(), kWorkerBatch, false, "walletd:worker");
    if (!report.ok()) {
      spdlog::warn("worker: retry failed: {}", report.status().message());
    } else {
      for (const auto& a : report->actions) {
        metrics_.retry_action(a.action);
        spdlog::info("worker: transaction {} {}: {}", a.transaction_id, a.action, a.detail);
      }
    }
    auto stuck = stuck_count(store, config_.reconcile_stuck_after);
    if (stuck.ok()) metrics_.set_stuck(*stuck);
  }

  const Config& config_;
  Metrics& metrics_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"walletd — the wallet ledger's JSON HTTP API and background worker", "walletd"};
  app.set_version_flag("--version", std::string("walletd ") + kVersion);
  Options options;
  app.add_option("-c,--config", options.config_file, "configuration file (TOML, see walletctl.toml(5))");
  app.add_option("-d,--database", options.database, "libpq conninfo or URI (no passwords: use .pgpass)");
  app.add_flag("--no-prepared-statements", options.no_prepared_statements,
               "send statements unnamed instead of preparing them (PgBouncer in transaction pooling mode)");
  app.add_option("--log-file", options.log_file, "log to this file instead of stderr; SIGHUP reopens it");
  app.add_flag("-v,--verbose", options.verbose, "log debug details");
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

  ConfigFlags flags;
  if (!options.config_file.empty()) flags.config_file = options.config_file;
  if (!options.database.empty()) flags.database = options.database;
  if (options.no_prepared_statements) flags.prepared_statements = false;
  auto config = load_config(flags, [](const char* name) { return std::getenv(name); });
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
  if (config->daemon.tokens.empty()) {
    std::cerr << "walletd: no [daemon] tokens configured: every request would be refused\n";
    return 2;
  }
  setup_logging(options, *config);
  http.threads = config->daemon.threads;
  http.body_bytes_max = static_cast<std::size_t>(config->daemon.body_bytes_max);
  http.io_timeout = config->daemon.request_timeout;

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
  Api api(pool, read_pool.get(), metrics, *config);
  api.install(server);
  server.observe([&metrics](const HttpRequest& r, int status, const std::string& route, double seconds) {
    metrics.request(route, r.method, status, seconds);
    spdlog::info("request {} {} {} -> {} in {:.1f} ms", r.request_id, r.method, r.path, status, seconds * 1000);
  });
  if (!server.bind()) {
    spdlog::critical("cannot listen on {}", config->daemon.listen);
    return 1;
  }
  spdlog::info("listening on http://{}:{} ({} threads, {} database sessions)", http.host, server.bound_port(),
               http.threads, pool.size());

  Worker worker(*config, metrics);
  std::thread worker_thread([&worker] { worker.run(); });
  std::atomic<bool> stopping{false};
  std::thread signal_thread([&] {
    for (;;) {
      int received = 0;
      sigwait(&signals, &received);
      if (received == SIGHUP) {
        reopen_log(options);
        continue;
      }
      spdlog::info("signal {}: draining in-flight requests, then exiting", received);
      stopping = true;
      server.stop();
      worker.stop();
      return;
    }
  });

  const bool served = server.serve();
  if (!stopping) {
    // The server stopped on its own: wake the signal thread so it can end.
    kill(getpid(), SIGTERM);
  }
  signal_thread.join();
  worker_thread.join();
  spdlog::info("stopped");
  return served || stopping ? 0 : 1;
}
