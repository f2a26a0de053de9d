#include "reconcile/job_metrics.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iomanip>
#include <locale>
#include <sstream>

#include "core/domain/prometheus.hpp"

namespace wallet::jobs {

namespace {

// The actions retry reports (core/store/pending.cpp), each always written,
// so that a series exists (at 0) before the first time it happens.
const std::vector<std::string> kRetryActions = {"posted", "voided", "deferred", "would-settle", "would-void"};

Sample sample(std::string name, std::string help, double value, std::map<std::string, std::string> labels = {}) {
  return Sample{std::move(name), std::move(help), std::move(labels), value};
}

std::string label_text(const std::map<std::string, std::string>& labels) {
  if (labels.empty()) return "";
  std::string text = "{";
  for (const auto& [key, value] : labels) {
    if (text.size() > 1) text += ',';
    text += key + "=\"" + prometheus_label_value(value) + '"';
  }
  return text + "}";
}

// Integers as integers; anything else with millisecond precision.
void write_value(std::ostringstream& out, double value) {
  if (std::fabs(value) < 1e15 && value == std::floor(value)) {
    out << static_cast<long long>(value);
  } else {
    out << std::fixed << std::setprecision(3) << value << std::defaultfloat;
  }
}

// The value of `name{job="JOB"}` in a textfile, if it has one.
std::optional<double> previous_value(std::string_view text, const std::string& name, const std::string& job) {
  const std::string prefix = name + label_text({{"command", job}}) + " ";
  const auto at = text.find(prefix);
  if (at == std::string_view::npos || (at > 0 && text[at - 1] != '\n')) return std::nullopt;
  const std::string rest(text.substr(at + prefix.size(), text.find('\n', at) - at - prefix.size()));
  std::istringstream in(rest);
  in.imbue(std::locale::classic());
  double value = 0;
  if (!(in >> value)) return std::nullopt;
  return value;
}

}  // namespace

std::vector<Sample> reconcile_samples(const ReconcileReport& report) {
  return {
      sample("walletctl_reconcile_drift_findings", "Drift and imbalance findings of the last reconcile (page someone when > 0).",
             static_cast<double>(report.drift.size())),
      sample("walletctl_reconcile_stuck_transactions", "Stuck transactions the last reconcile listed.",
             static_cast<double>(report.stuck.size())),
      sample("walletctl_reconcile_entries_checked", "Ledger entries the last reconcile verified.",
             static_cast<double>(report.entries)),
      sample("walletctl_reconcile_wallets_checked", "Wallets the last reconcile verified.",
             static_cast<double>(report.wallets)),
      sample("walletctl_reconcile_transactions_checked", "Transactions the last reconcile checked against their entries.",
             static_cast<double>(report.transactions)),
      sample("walletctl_reconcile_full", "1 when the last reconcile was a full one (--full), 0 when incremental.",
             report.full ? 1 : 0),
  };
}

std::vector<Sample> retry_samples(const RetryReport& report) {
  std::map<std::string, int64_t> counts;
  int64_t still_pending = 0;
  for (const auto& a : report.actions) {
    ++counts[a.action];
    if (a.status == "pending") ++still_pending;
  }
  std::vector<Sample> samples;
  for (const auto& action : kRetryActions) {
    samples.push_back(sample("walletctl_retry_transactions", "Stuck transactions the last retry handled, by action.",
                             static_cast<double>(counts[action]), {{"action", action}}));
  }
  samples.push_back(sample("walletctl_retry_still_pending",
                           "Transactions the last retry left pending (settlement deferred again).",
                           static_cast<double>(still_pending)));
  samples.push_back(sample("walletctl_retry_dry_run", "1 when the last retry was a --dry-run.", report.dry_run ? 1 : 0));
  return samples;
}

std::vector<Sample> digest_samples(const digest::Anchor& anchor) {
  std::vector<Sample> samples;
  if (auto at = epoch_seconds(anchor.created_at)) {
    samples.push_back(sample("walletctl_digest_anchored_timestamp_seconds",
                             "Database time of the snapshot the last digest anchored (Unix time).", *at));
  }
  samples.push_back(sample("walletctl_digest_entries", "Ledger entries the last digest anchored.",
                           static_cast<double>(anchor.entries)));
  samples.push_back(sample("walletctl_digest_wallets", "Wallets the last digest anchored.",
                           static_cast<double>(anchor.wallets)));
  samples.push_back(sample("walletctl_digest_max_entry_id", "Highest ledger entry id the last digest anchored.",
                           static_cast<double>(anchor.max_entry_id)));
  return samples;
}

std::vector<Sample> statement_samples(const StatementReport& report) {
  const std::map<std::string, std::string> on = {{"account", report.account}, {"asset", report.asset}};
  std::vector<Sample> samples = {
      sample("walletctl_statement_lines", "Lines of the statement file the last reconcile statement read.",
             static_cast<double>(report.file_lines), on),
      sample("walletctl_statement_matched_groups", "Matched groups (lines with their movements) of the last reconcile statement.",
             static_cast<double>(report.matched.size()), on),
      sample("walletctl_statement_unmatched_lines",
             "Statement lines the last reconcile statement matched to no movement (money the ledger does not know of).",
             static_cast<double>(report.unmatched_lines.size()), on),
      sample("walletctl_statement_unmatched_transactions",
             "Posted movements in the statement's period that no line matched (money the statement does not show).",
             static_cast<double>(report.unmatched_transactions.size()), on),
      sample("walletctl_statement_mismatched",
             "Lines naming a movement that differs (amount, direction, currency, status) in the last reconcile statement.",
             static_cast<double>(report.mismatched.size()), on),
  };
  std::optional<double> oldest;
  for (const auto& line : report.unmatched_lines) {
    const std::string at = line.date.size() == 10 ? line.date + "T00:00:00Z" : line.date;
    if (auto seconds = epoch_seconds(at); seconds && (!oldest || *seconds < *oldest)) oldest = seconds;
  }
  if (oldest) {
    samples.push_back(sample("walletctl_statement_oldest_unmatched_line_timestamp_seconds",
                             "When the oldest statement line the last reconcile statement left unmatched was booked (Unix time).",
                             *oldest, on));
  }
  return samples;
}

std::string render_textfile(const JobRun& run, const std::vector<Sample>& samples, std::string_view previous) {
  const std::map<std::string, std::string> job = {{"command", run.job}};
  std::vector<Sample> all = {
      sample("walletctl_job_last_run_timestamp_seconds", "When a walletctl job last finished, whatever its outcome (Unix time).",
             run.finished_at_seconds, job),
      sample("walletctl_job_duration_seconds", "How long the last run of a walletctl job took.", run.duration_seconds, job),
      sample("walletctl_job_exit_code", "Exit status of the last run of a walletctl job (walletctl(1), EXIT STATUS).",
             run.exit_code, job),
      sample("walletctl_job_completed",
             "1 when the last run of a walletctl job ran to its end (findings included), 0 when it could not.",
             run.completed ? 1 : 0, job),
  };
  const char* const last_completed = "walletctl_job_last_completed_timestamp_seconds";
  const std::optional<double> completed_at =
      run.completed ? std::optional<double>(run.finished_at_seconds) : previous_value(previous, last_completed, run.job);
  if (completed_at) {
    all.push_back(sample(last_completed, "When a walletctl job last ran to its end (Unix time).", *completed_at, job));
  }
  all.insert(all.end(), samples.begin(), samples.end());

  std::ostringstream out;
  out.imbue(std::locale::classic());
  std::string last_name;
  for (const auto& s : all) {
    if (s.name != last_name) {
      out << "# HELP " << s.name << ' ' << s.help << "\n# TYPE " << s.name << " gauge\n";
      last_name = s.name;
    }
    out << s.name << label_text(s.labels) << ' ';
    write_value(out, s.value);
    out << '\n';
  }
  return out.str();
}

Status write_textfile(const std::string& path, const std::string& text) {
  std::string temporary = path + ".XXXXXX";
  const int fd = ::mkstemp(temporary.data());
  if (fd < 0) return Status::Invalid("cannot write metrics file " + path + ": " + std::strerror(errno));
  const auto failed = [&](const std::string& what) {
    const std::string reason = std::strerror(errno);
    ::close(fd);
    ::unlink(temporary.c_str());
    return Status::Invalid("cannot " + what + " metrics file " + path + ": " + reason);
  };
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return failed("write");
    written += static_cast<std::size_t>(n);
  }
  // node_exporter usually runs as another user.
  if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0) return failed("write");
  if (::close(fd) != 0) {
    ::unlink(temporary.c_str());
    return Status::Invalid("cannot write metrics file " + path + ": " + std::strerror(errno));
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(temporary.c_str());
    return Status::Invalid("cannot rename a temporary file to metrics file " + path + ": " + reason);
  }
  return Status::Ok();
}

std::optional<double> epoch_seconds(std::string_view text) {
  std::tm tm{};
  int consumed = 0;
  const std::string copy(text);
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
      consumed != 19) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(19);
  double fraction = 0;
  if (!rest.empty() && rest.front() == '.') {
    double scale = 0.1;
    rest.remove_prefix(1);
    if (rest.empty() || rest.front() < '0' || rest.front() > '9') return std::nullopt;
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
      fraction += (rest.front() - '0') * scale;
      scale /= 10;
      rest.remove_prefix(1);
    }
  }
  if (rest != "Z") return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const time_t seconds = ::timegm(&tm);
  if (seconds == static_cast<time_t>(-1)) return std::nullopt;
  return static_cast<double>(seconds) + fraction;
}

}  // namespace wallet::jobs
