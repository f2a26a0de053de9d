#include "core/config/options.hpp"

#include <cassert>
#include <algorithm>
#include <charconv>

#include "core/domain/validate.hpp"

namespace wallet {

namespace {

// Longest part of a refused value quoted back.
constexpr std::size_t kValueShownMax = 40;

template <typename F>
OptionField field(F f) {
  return OptionField(+f);
}

// Every setting of both programs. Adding one: a row here, a member of
// Config (its default), and its entry in the man pages (options_test.cpp
// fails until they agree).
const std::vector<OptionSpec>& table() {
  static const std::vector<OptionSpec> rows = {
      {.key = "config", .flag = "-c,--config", .environment = "WALLETCTL_CONFIG", .in_file = false,
       .programs = kBothPrograms, .field = field([](Config& c) -> std::string& { return c.file; }),
       .help = "configuration file (TOML, see walletctl.toml(5))"},
      {.key = "database", .flag = "-d,--database", .environment = "WALLETCTL_DATABASE", .in_file = true,
       .programs = kBothPrograms, .field = field([](Config& c) -> std::string& { return c.database; }),
       .help = "libpq conninfo or URI (no passwords: use .pgpass)"},
      {.key = "read_database", .flag = "--read-database", .environment = "WALLETCTL_READ_DATABASE",
       .in_file = true, .programs = kBothPrograms,
       .field = field([](Config& c) -> std::string& { return c.read_database; }),
       .help = "libpq conninfo or URI that history and reconcile read from, e.g. a hot standby "
               "(default: --database)"},
      {.key = "prepared_statements", .flag = "--no-prepared-statements",
       .environment = "WALLETCTL_PREPARED_STATEMENTS", .in_file = true, .programs = kBothPrograms,
       .field = field([](Config& c) -> bool& { return c.prepared_statements; }), .flag_sets = false,
       .help = "send statements unnamed instead of preparing them (PgBouncer in transaction pooling mode)"},
      {.key = "output", .flag = "-o,--output", .environment = "", .in_file = false, .programs = kWalletctl,
       .field = field([](Config& c) -> std::string& { return c.output; }),
       .choices = {"table", "json", "jsonl", "csv"}, .help = "output format"},
      {.key = "actor", .flag = "--actor", .environment = "", .in_file = false, .programs = kWalletctl,
       .field = field([](Config& c) -> std::string& { return c.actor; }),
       .help = "name recorded in the audit log (default: the OS user)"},
      {.key = "metrics_file", .flag = "--metrics-file", .environment = "", .in_file = false, .programs = kWalletctl,
       .field = field([](Config& c) -> std::string& { return c.metrics_file; }),
       .help = "reconcile, reconcile statement, retry, digest: write this run's metrics to PATH in the Prometheus textfile format "
               "(atomically, for node_exporter's textfile collector)"},
      {.key = "verbose", .flag = "-v,--verbose", .environment = "", .in_file = false, .programs = kBothPrograms,
       .field = field([](Config& c) -> bool& { return c.verbose; }), .help = "log debug details"},
      {.key = "quiet", .flag = "-q,--quiet", .environment = "", .in_file = false, .programs = kWalletctl,
       .field = field([](Config& c) -> bool& { return c.quiet; }), .help = "log only errors"},
      {.key = "log_file", .flag = "--log-file", .environment = "", .in_file = false, .programs = kWalletd,
       .field = field([](Config& c) -> std::string& { return c.log_file; }),
       .help = "log to this file instead of stderr; SIGHUP reopens it"},
      {.key = "log.level", .flag = "", .environment = "", .in_file = true, .programs = kBothPrograms,
       .field = field([](Config& c) -> std::string& { return c.log_level; }),
       .choices = {"trace", "debug", "info", "warn", "error", "critical", "off"},
       .help = "least severe log messages shown"},
      {.key = "holds.timeout", .flag = "", .environment = "", .in_file = true, .programs = kBothPrograms,
       .field = field([](Config& c) -> Milliseconds& { return c.holds_timeout; }), .low = 1000,
       .help = "expiry of a hold made without --timeout"},
      {.key = "settlement.command", .flag = "", .environment = "", .in_file = true, .programs = kBothPrograms,
       .field = field([](Config& c) -> std::string& { return c.settlement_command; }),
       .help = "program that settles withdrawals (empty: withdrawals post at once)"},
      {.key = "settlement.timeout", .flag = "", .environment = "", .in_file = true, .programs = kBothPrograms,
       .field = field([](Config& c) -> Milliseconds& { return c.settlement_timeout; }), .low = 100,
       .help = "how long the settlement command may run"},
      {.key = "settlement.env", .flag = "", .environment = "", .in_file = true, .programs = kBothPrograms,
       .field = field([](Config& c) -> std::map<std::string, std::string>& { return c.settlement_env; }),
       .help = "variables given to the settlement command besides PATH, HOME, LANG, LC_ALL and TZ"},
      {.key = "reconcile.stuck_after", .flag = "", .environment = "", .in_file = true, .programs = kBothPrograms,
       .field = field([](Config& c) -> Milliseconds& { return c.reconcile_stuck_after; }),
       .help = "a pending transaction older than this is stuck"},
      {.key = "statement.profiles", .flag = "", .environment = "", .in_file = true, .programs = kWalletctl,
       .field = field([](Config& c) -> std::map<std::string, StatementProfile>& { return c.statement_profiles; }),
       .help = "column mappings of external statements, one [statement.profiles.NAME] table each "
               "(reconcile statement --profile NAME)"},
      {.key = "daemon.listen", .flag = "", .environment = "", .in_file = true, .programs = kWalletd,
       .field = field([](Config& c) -> std::string& { return c.daemon.listen; }), .help = "HOST:PORT to serve on"},
      {.key = "daemon.threads", .flag = "", .environment = "", .in_file = true, .programs = kWalletd,
       .field = field([](Config& c) -> int& { return c.daemon.threads; }), .low = 1, .high = 256,
       .help = "request threads"},
      {.key = "daemon.pool_size", .flag = "", .environment = "", .in_file = true, .programs = kWalletd,
       .field = field([](Config& c) -> int& { return c.daemon.pool_size; }), .low = 1, .high = 256,
       .help = "database sessions"},
      {.key = "daemon.tokens", .flag = "", .environment = "", .in_file = true, .programs = kWalletd,
       .field = field([](Config& c) -> std::vector<std::string>& { return c.daemon.tokens; }),
       .help = "bearer tokens accepted"},
      {.key = "daemon.rate_limit_per_second", .flag = "", .environment = "", .in_file = true,
       .programs = kWalletd, .field = field([](Config& c) -> int& { return c.daemon.rate_limit_per_second; }),
       .low = 1, .high = 1'000'000, .help = "requests per second per token"},
      {.key = "daemon.body_bytes_max", .flag = "", .environment = "", .in_file = true, .programs = kWalletd,
       .field = field([](Config& c) -> int& { return c.daemon.body_bytes_max; }), .low = 1024,
       .high = 16 << 20, .help = "largest request body"},
      {.key = "daemon.request_timeout", .flag = "", .environment = "", .in_file = true, .programs = kWalletd,
       .field = field([](Config& c) -> Milliseconds& { return c.daemon.request_timeout; }),
       .help = "read/write timeout of a request, and the wait for a database session"},
      {.key = "daemon.worker_interval", .flag = "", .environment = "", .in_file = true, .programs = kWalletd,
       .field = field([](Config& c) -> Milliseconds& { return c.daemon.worker_interval; }), .low = 100,
       .help = "pause between rounds of the background worker"},
      {.key = "daemon.io_threads", .flag = "", .environment = "", .in_file = true, .programs = kWalletd,
       .field = field([](Config& c) -> int& { return c.daemon.io_threads; }), .low = 1, .high = 64,
       .help = "event-loop threads that read and write connections"},
      {.key = "daemon.connections_max", .flag = "", .environment = "", .in_file = true, .programs = kWalletd,
       .field = field([](Config& c) -> int& { return c.daemon.connections_max; }), .low = 1, .high = 1'000'000,
       .help = "open connections served at once; one more is answered 503"},
      {.key = "daemon.auth_failures_per_minute", .flag = "", .environment = "", .in_file = true,
       .programs = kWalletd, .field = field([](Config& c) -> int& { return c.daemon.auth_failures_per_minute; }),
       .low = 1, .high = 1'000'000, .help = "401 answers per client address per minute before it gets 429"},
      {.key = "daemon.tls_cert", .flag = "", .environment = "", .in_file = true, .programs = kWalletd,
       .field = field([](Config& c) -> std::string& { return c.daemon.tls_cert; }),
       .help = "PEM certificate chain for TLS (with tls_key; reloaded on SIGHUP)"},
      {.key = "daemon.tls_key", .flag = "", .environment = "", .in_file = true, .programs = kWalletd,
       .field = field([](Config& c) -> std::string& { return c.daemon.tls_key; }),
       .help = "PEM private key for TLS (with tls_cert)"},
      {.key = "daemon.allow_plaintext", .flag = "", .environment = "", .in_file = true, .programs = kWalletd,
       .field = field([](Config& c) -> bool& { return c.daemon.allow_plaintext; }),
       .help = "serve a non-loopback listen address without TLS"},
  };
  return rows;
}

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

Status invalid(const std::string& name, const std::string& expected, std::string_view text) {
  return Status::Invalid(name + " must be " + expected + ", not \"" + excerpt(text, kValueShownMax) + "\"");
}

std::string joined(const std::vector<std::string_view>& names) {
  std::string text;
  for (const auto& n : names) text += (text.empty() ? "" : ", ") + std::string(n);
  return text;
}

}  // namespace

std::span<const OptionSpec> option_table() { return table(); }

const OptionSpec* find_option(std::string_view key) {
  for (const auto& row : table()) {
    if (row.key == key) return &row;
  }
  return nullptr;
}

std::string default_text(const OptionSpec& option) {
  Config defaults;
  return std::visit(Overloaded{[&](std::string& (*f)(Config&)) { return f(defaults); },
                               [&](bool& (*f)(Config&)) { return std::string(f(defaults) ? "true" : "false"); },
                               [&](int& (*f)(Config&)) { return std::to_string(f(defaults)); },
                               [&](Milliseconds& (*f)(Config&)) { return format_duration(f(defaults)); },
                               [&](std::vector<std::string>& (*f)(Config&)) { return joined({f(defaults).begin(), f(defaults).end()}); },
                               [&](std::map<std::string, std::string>& (*)(Config&)) { return std::string(); },
                               [&](std::map<std::string, StatementProfile>& (*)(Config&)) { return std::string(); }},
                    option.field);
}

std::string bound_text(const OptionSpec& option) {
  if (!option.choices.empty()) return "one of " + joined(option.choices);
  if (option.low == 0 && option.high == 0) return "";
  if (std::holds_alternative<int& (*)(Config&)>(option.field)) {
    return "an integer from " + std::to_string(option.low) + " to " + std::to_string(option.high);
  }
  assert(std::holds_alternative<Milliseconds& (*)(Config&)>(option.field) && option.high == 0);
  return "at least " + format_duration(Milliseconds{option.low});
}

Status set_option_text(const OptionSpec& option, std::string_view text, const std::string& source, Config& config) {
  return std::visit(
      Overloaded{
          [&](std::string& (*f)(Config&)) -> Status {
            if (!option.choices.empty() &&
                std::find(option.choices.begin(), option.choices.end(), text) == option.choices.end()) {
              return invalid(source, bound_text(option), text);
            }
            f(config) = std::string(text);
            return Status::Ok();
          },
          [&](bool& (*f)(Config&)) -> Status {
            if (text == "on" || text == "true" || text == "1") {
              f(config) = true;
            } else if (text == "off" || text == "false" || text == "0") {
              f(config) = false;
            } else {
              return invalid(source, "on, off, true, false, 1 or 0", text);
            }
            return Status::Ok();
          },
          [&](int& (*f)(Config&)) -> Status {
            int value = 0;
            const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
            if (error != std::errc() || end != text.data() + text.size() || value < option.low || value > option.high) {
              return invalid(source, bound_text(option), text);
            }
            f(config) = value;
            return Status::Ok();
          },
          [&](Milliseconds& (*f)(Config&)) -> Status {
            auto parsed = parse_duration(text);
            if (!parsed.ok()) return Status::Invalid(source + ": " + parsed.status().message());
            if (parsed->count() < option.low) return Status::Invalid(source + " must be " + bound_text(option));
            f(config) = *parsed;
            return Status::Ok();
          },
          [&](std::vector<std::string>& (*)(Config&)) -> Status {
            // No list is a flag or an environment variable (options_test.cpp checks).
            assert(false && "lists are set in the file only");
            return Status::Internal(source + " is set in the configuration file only");
          },
          [&](std::map<std::string, std::string>& (*)(Config&)) -> Status {
            assert(false && "tables are set in the file only");
            return Status::Internal(source + " is set in the configuration file only");
          },
          [&](std::map<std::string, StatementProfile>& (*)(Config&)) -> Status {
            assert(false && "tables are set in the file only");
            return Status::Internal(source + " is set in the configuration file only");
          }},
      option.field);
}

}  // namespace wallet
