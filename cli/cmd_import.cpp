// walletctl import.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>

#include "cli/app.hpp"
#include "core/bulk/import.hpp"

namespace wallet::cli {

namespace {

struct ImportArguments {
  std::string file;
  std::string format;
  bool dry_run = false;
};

// Size of a regular file, for the progress line's ETA; -1 otherwise.
int64_t size_of(const std::string& path) {
  struct stat info {};
  if (path == "-" || ::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return -1;
  return static_cast<int64_t>(info.st_size);
}

// One line on stderr, rewritten after each batch, only on a terminal.
std::function<void(const ImportProgress&)> progress_line(bool quiet, int64_t size_bytes) {
  if (quiet || ::isatty(STDERR_FILENO) == 0) return {};
  return [size_bytes](const ImportProgress& p) {
    const int64_t rate = p.elapsed_ms > 0 ? p.lines * 1000 / p.elapsed_ms : 0;
    std::string text = "import: " + std::to_string(p.lines) + " lines, " + std::to_string(rate) + " lines/s";
    if (size_bytes > 0 && p.bytes_read > 0) {
      const int64_t percent = p.bytes_read * 100 / size_bytes;
      const int64_t eta_s = p.elapsed_ms * (size_bytes - p.bytes_read) / p.bytes_read / 1000;
      text += ", " + std::to_string(percent) + "%, ETA " + format_duration(Milliseconds{eta_s * 1000});
    }
    std::fprintf(stderr, "\r%-70s", text.c_str());
    std::fflush(stderr);
  };
}

// Prints each refused or invalid line as FILE:LINE: message, up to the
// summary's limit, then says that more were left out.
std::function<void(const ImportError&)> error_printer(const std::string& source, bool progress_shown) {
  auto printed = std::make_shared<std::size_t>(0);
  return [source, printed, progress_shown](const ImportError& e) {
    if (*printed > kImportErrorsMax) return;
    if (progress_shown) std::fprintf(stderr, "\r%-70s\r", "");
    if (++*printed > kImportErrorsMax) {
      std::fprintf(stderr, "walletctl: %s: more than %zu lines failed; the rest are only counted\n", source.c_str(),
                   kImportErrorsMax);
      return;
    }
    std::fprintf(stderr, "walletctl: %s:%lld: %s\n", source.c_str(), static_cast<long long>(e.line),
                 e.message.c_str());
  };
}

Output summary_output(const ImportSummary& s) {
  nlohmann::json document = to_json(s);
  Output output = single_output(document, {"lines", "applied", "replayed", "refused", "invalid", "elapsed_ms",
                                           "lines_per_second", "dry_run"});
  output.rows[0].erase("errors");
  output.notes.push_back(std::string(s.dry_run ? "dry run, nothing written: " : "") + std::to_string(s.lines) +
                         " lines: " + std::to_string(s.applied) + " applied, " + std::to_string(s.replayed) +
                         " replayed, " + std::to_string(s.refused) + " refused (insufficient funds), " +
                         std::to_string(s.invalid) + " invalid");
  output.exit_code = exit_code_of(s);
  return output;
}

CommandResult run_import_command(const ImportArguments& a, Context& c) {
  auto format = import_format_of(a.file, a.format);
  if (!format.ok()) return CommandResult(format.status());
  std::ifstream file;
  if (a.file != "-") {
    file.open(a.file, std::ios::binary);
    if (!file) return CommandResult(Status::Invalid("cannot open " + a.file + ": " + std::strerror(errno)));
  }
  std::istream& in = a.file == "-" ? std::cin : file;
  ImportOptions options;
  options.format = *format;
  options.source = a.file;
  options.dry_run = a.dry_run;
  options.actor = c.actor;
  options.settlement_configured = !c.config.settlement_command.empty();
  ImportCallbacks callbacks;
  callbacks.on_progress = progress_line(c.quiet, size_of(a.file));
  callbacks.on_error = error_printer(a.file, static_cast<bool>(callbacks.on_progress));
  ImportSummary summary;
  Status status = run_import(*c.store, in, options, callbacks, summary);
  if (callbacks.on_progress) std::fprintf(stderr, "\r%-70s\r", "");
  if (!status.ok()) {
    if (status.code() == Code::invalid) return CommandResult(status);
    return CommandResult(Status(status.code(), status.message() + " (lines up to " + std::to_string(summary.last_line) +
                                                   " were applied; re-running the file replays them)"),
                         {{"summary", to_json(summary)}});
  }
  return CommandResult(summary_output(summary));
}

}  // namespace

void register_import_commands(CLI::App& app, Commands& commands) {
  auto arguments = std::make_shared<ImportArguments>();
  auto* command = app.add_subcommand(
      "import", "apply wallets, opening balances and movements from a CSV or JSON Lines file (or - for stdin)");
  command->add_option("FILE", arguments->file, "file to import, or - for standard input")->required();
  command->add_option("--format", arguments->format, "csv or jsonl (default: from the file's extension)")
      ->check(CLI::IsMember({"csv", "jsonl"}));
  command->add_flag("--dry-run", arguments->dry_run,
                    "check every line against the database (assets, wallets, funds, keys) and write nothing");
  commands.emplace_back(command, [arguments](Context& c) { return run_import_command(*arguments, c); });
}

}  // namespace wallet::cli
