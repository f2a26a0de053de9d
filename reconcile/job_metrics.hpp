// Metrics of the cron jobs (walletctl reconcile, reconcile statement, retry,
// digest) in the
// Prometheus textfile-collector format, for node_exporter's
// --collector.textfile.directory (walletctl(1), --metrics-file).
//
// Every job writes the walletctl_job_* series labelled command="<command>"
// (not job=: Prometheus sets job and instance on every scraped series);
// reconcile, retry and digest add what they found. The HELP text of a
// metric is the same in every job's file: node_exporter merges the files
// and refuses metrics whose HELP differs.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/domain/status.hpp"
#include "core/domain/types.hpp"
#include "reconcile/anchor.hpp"
#include "reconcile/reconcile.hpp"
#include "reconcile/statement_match.hpp"

namespace wallet::jobs {

struct Sample {
  std::string name;  // walletctl_..., a gauge
  std::string help;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// How one run of a job ended.
struct JobRun {
  std::string job;                // reconcile, retry, digest
  double finished_at_seconds = 0;  // Unix time
  double duration_seconds = 0;
  int exit_code = 0;
  bool completed = false;  // ran to its end (findings included); false: it could not run (database down, ...)
};

std::vector<Sample> reconcile_samples(const ReconcileReport& report);
std::vector<Sample> retry_samples(const RetryReport& report);
// The anchored time is left out when created_at does not parse.
std::vector<Sample> digest_samples(const digest::Anchor& anchor);
// reconcile statement (command reconcile_statement): what one run left
// unmatched or mismatched on its account and asset (labels account, asset),
// and when the oldest unmatched line was booked (only when there is one).
std::vector<Sample> statement_samples(const StatementReport& report);

// The whole file: the run's walletctl_job_* series, then `samples`.
// walletctl_job_last_completed_timestamp_seconds is this run's end when it
// completed, else the value in `previous` (the file as the last run left
// it), so a failing job keeps reporting when it last worked.
std::string render_textfile(const JobRun& run, const std::vector<Sample>& samples, std::string_view previous);

// Writes `text` to `path` atomically: a temporary file in the same
// directory (not ending in .prom, so the collector never reads it half
// written), fsync, mode 0644, rename. Invalid when any step fails (the
// temporary file is removed).
Status write_textfile(const std::string& path, const std::string& text);

// Seconds since the Unix epoch of "YYYY-MM-DDTHH:MM:SS[.frac]Z"; nullopt otherwise.
std::optional<double> epoch_seconds(std::string_view rfc3339_utc);

}  // namespace wallet::jobs
