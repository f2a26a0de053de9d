#include "cli/app.hpp"

#include <pwd.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <ostream>
#include <set>
#include <sstream>

#include "core/domain/validate.hpp"
#include "core/domain/version.hpp"

namespace wallet::cli {

namespace {

std::string os_user(const EnvironmentLookup& environment) {
  if (const passwd* pw = getpwuid(geteuid()); pw != nullptr && pw->pw_name != nullptr) return pw->pw_name;
  if (const char* user = environment("USER"); user != nullptr) return user;
  return "unknown";
}

void setup_logging(const std::string& level, bool verbose, bool quiet) {
  static bool done = false;
  if (!done) {
    auto logger = spdlog::stderr_color_mt("walletctl");
    logger->set_pattern("walletctl: %l: %v");
    spdlog::set_default_logger(logger);
    done = true;
  }
  auto parsed = spdlog::level::from_str(level);
  if (verbose) parsed = spdlog::level::debug;
  if (quiet) parsed = spdlog::level::err;
  spdlog::set_level(parsed);
}

Format format_of(const std::string& name) {
  if (name == "json") return Format::json;
  if (name == "jsonl") return Format::jsonl;
  if (name == "csv") return Format::csv;
  return Format::table;
}

// The commands that --metrics-file applies to: the cron jobs (a
// subcommand's job is named parent_child).
const std::set<std::string> kMetricsJobs = {"reconcile", "reconcile_statement", "retry", "digest"};

std::string job_name(const CLI::App& app, const CLI::App& subcommand) {
  const CLI::App* parent = subcommand.get_parent();
  return parent == &app || parent == nullptr ? subcommand.get_name()
                                             : parent->get_name() + "_" + subcommand.get_name();
}

// Writes the job's textfile; returns the exit code to use: the job's own,
// or 2 when the file could not be written and the job found nothing
// (findings keep their code: they matter more than the metrics).
int write_job_metrics(const std::string& path, const std::string& job, std::chrono::steady_clock::time_point started,
                      const CommandResult& result, int code, std::ostream& err) {
  jobs::JobRun run;
  run.job = job;
  run.duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  run.finished_at_seconds =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  run.exit_code = code;
  run.completed = result.status.ok();
  std::ostringstream previous;
  if (std::ifstream file(path); file) previous << file.rdbuf();
  const Status written = jobs::write_textfile(path, jobs::render_textfile(run, result.metrics, previous.str()));
  if (written.ok()) return code;
  err << "walletctl: " << written.message() << '\n';
  return code == 0 ? exit_code(written.code()) : code;
}

}  // namespace

Store& Context::read_store() {
  if (config.read_database.empty()) return *store;
  if (!read_store_) {
    read_store_ = std::make_unique<Store>(read_conninfo(config), RetryPolicy{},
                                          StoreOptions{config.prepared_statements});
  }
  return *read_store_;
}

Ledger& Context::read_ledger() {
  if (config.read_database.empty()) return *ledger;
  if (!read_ledger_) read_ledger_ = std::make_unique<Ledger>(read_store(), config);
  return *read_ledger_;
}

CommandLine::CommandLine()
    : app("walletctl — operate the wallet ledger (deposits, withdrawals, transfers, balances, history)",
          "walletctl"),
      global(app, kWalletctl) {
  app.set_version_flag("--version", std::string("walletctl ") + kVersion);
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the command
  register_admin_commands(app, commands);
  register_money_commands(app, commands);
  register_query_commands(app, commands);
  register_reconcile_commands(app, commands);
  register_digest_commands(app, commands);
  register_import_commands(app, commands);
  register_bench_commands(app, commands);
}

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
            const EnvironmentLookup& environment) {
  CommandLine line;
  CLI::App& app = line.app;
  OptionFlags& global = line.global;
  Commands& commands = line.commands;

  Format format = Format::table;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e, out, err);
  } catch (const CLI::ParseError& e) {
    // CLI11 would exit 100-127; every usage error is exit 2 here.
    for (int i = 1; i + 1 < argc; ++i) {
      if (std::string(argv[i]) == "-o" || std::string(argv[i]) == "--output") format = format_of(argv[i + 1]);
    }
    render_error(Status::Invalid(e.what()), format, nullptr, out, err);
    return exit_code(Code::invalid);
  }
  if (const std::string* output = global.text("output")) format = format_of(*output);

  Context context;
  auto config = load_config(global.given(), environment);
  if (!config.ok()) {
    render_error(config.status(), format, nullptr, out, err);
    return exit_code(config.status().code());
  }
  context.config = *config;
  context.format = format;
  context.quiet = context.config.quiet;
  setup_logging(context.config.log_level, context.config.verbose, context.config.quiet);
  context.actor = context.config.actor.empty() ? os_user(environment) : context.config.actor;
  if (Status s = validate_actor(context.actor); !s.ok()) {
    render_error(Status::Invalid("invalid --actor: " + s.message()), format, nullptr, out, err);
    return exit_code(Code::invalid);
  }
  context.store = std::make_unique<Store>(context.config.database, RetryPolicy{},
                                          StoreOptions{context.config.prepared_statements});
  context.ledger = std::make_unique<Ledger>(*context.store, context.config);

  for (auto& [subcommand, action] : commands) {
    if (!subcommand->parsed()) continue;
    const bool metrics = !context.config.metrics_file.empty();
    const std::string job = job_name(app, *subcommand);
    if (metrics && kMetricsJobs.count(job) == 0) {
      render_error(Status::Invalid("--metrics-file applies to reconcile, reconcile statement, retry and digest, not to " +
                                   subcommand->get_name()),
                   format, nullptr, out, err);
      return exit_code(Code::invalid);
    }
    const auto started = std::chrono::steady_clock::now();
    CommandResult result = action(context);
    int code = result.status.ok() ? result.output.exit_code : exit_code(result.status.code());
    if (metrics) {
      code = write_job_metrics(context.config.metrics_file, job, started, result, code, err);
    }
    if (!result.status.ok()) {
      render_error(result.status, format, result.error_extra, out, err);
      return code;
    }
    render(result.output, format, out);
    return code;
  }
  render_error(Status::Invalid("no command given; see walletctl --help"), format, nullptr, out, err);
  return exit_code(Code::invalid);
}

}  // namespace wallet::cli
