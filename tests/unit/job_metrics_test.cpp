// The cron jobs' textfiles (reconcile/job_metrics.hpp): the format
// node_exporter's textfile collector reads, and the carried-over time of
// the last completed run.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "core/domain/prometheus.hpp"
#include "reconcile/job_metrics.hpp"

using namespace wallet;

TEST_CASE("a reconcile's textfile has the job's series and its findings, one HELP and TYPE per metric") {
  ReconcileReport report;
  report.entries = 12;
  report.wallets = 3;
  report.transactions = 6;
  report.drift.resize(2);
  report.stuck.resize(1);
  jobs::JobRun run{"reconcile", 1796212800.25, 0.5, 10, true};
  const std::string text = jobs::render_textfile(run, jobs::reconcile_samples(report), "");
  CHECK(text.find("# TYPE walletctl_job_exit_code gauge\nwalletctl_job_exit_code{command=\"reconcile\"} 10\n") !=
        std::string::npos);
  CHECK(text.find("walletctl_job_last_run_timestamp_seconds{command=\"reconcile\"} 1796212800.250\n") !=
        std::string::npos);
  CHECK(text.find("walletctl_job_last_completed_timestamp_seconds{command=\"reconcile\"} 1796212800.250\n") !=
        std::string::npos);
  CHECK(text.find("walletctl_job_completed{command=\"reconcile\"} 1\n") != std::string::npos);
  CHECK(text.find("walletctl_job_duration_seconds{command=\"reconcile\"} 0.500\n") != std::string::npos);
  CHECK(text.find("walletctl_reconcile_drift_findings 2\n") != std::string::npos);
  CHECK(text.find("walletctl_reconcile_stuck_transactions 1\n") != std::string::npos);
  CHECK(text.find("walletctl_reconcile_entries_checked 12\n") != std::string::npos);
  // Every line is a comment or "name[{labels}] value".
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    CAPTURE(line);
    CHECK((line.rfind("# HELP walletctl_", 0) == 0 || line.rfind("# TYPE walletctl_", 0) == 0 ||
           line.rfind("walletctl_", 0) == 0));
  }
}

TEST_CASE("a failed run keeps the time of the last completed run from the previous file") {
  const std::string before = jobs::render_textfile({"retry", 1000, 1, 0, true}, {}, "");
  const std::string failed = jobs::render_textfile({"retry", 2000, 1, 75, false}, {}, before);
  CHECK(failed.find("walletctl_job_completed{command=\"retry\"} 0\n") != std::string::npos);
  CHECK(failed.find("walletctl_job_exit_code{command=\"retry\"} 75\n") != std::string::npos);
  CHECK(failed.find("walletctl_job_last_run_timestamp_seconds{command=\"retry\"} 2000\n") != std::string::npos);
  CHECK(failed.find("walletctl_job_last_completed_timestamp_seconds{command=\"retry\"} 1000\n") != std::string::npos);
  // No previous file, or another job's: no completed time at all.
  const std::string first = jobs::render_textfile({"retry", 2000, 1, 75, false}, {}, "");
  CHECK(first.find("last_completed") == std::string::npos);
  const std::string other = jobs::render_textfile({"digest", 2000, 1, 75, false}, {}, before);
  CHECK(other.find("last_completed") == std::string::npos);
}

TEST_CASE("retry's textfile counts every action, zero included") {
  RetryReport report;
  report.actions.push_back(RetryAction{1, "withdraw", "deferred", "pending", 2, std::nullopt, ""});
  report.actions.push_back(RetryAction{2, "transfer", "voided", "voided", 0, std::nullopt, ""});
  const std::string text = jobs::render_textfile({"retry", 1, 1, 11, true}, jobs::retry_samples(report), "");
  CHECK(text.find("walletctl_retry_transactions{action=\"deferred\"} 1\n") != std::string::npos);
  CHECK(text.find("walletctl_retry_transactions{action=\"voided\"} 1\n") != std::string::npos);
  CHECK(text.find("walletctl_retry_transactions{action=\"posted\"} 0\n") != std::string::npos);
  CHECK(text.find("walletctl_retry_still_pending 1\n") != std::string::npos);
}

TEST_CASE("epoch_seconds reads the database's RFC 3339 UTC times and nothing else") {
  CHECK(jobs::epoch_seconds("1970-01-01T00:00:00Z") == 0.0);
  CHECK(jobs::epoch_seconds("2026-12-02T15:12:43.500000Z") == doctest::Approx(1796224363.5));
  CHECK_FALSE(jobs::epoch_seconds("2026-12-02T15:12:43+08:00"));
  CHECK_FALSE(jobs::epoch_seconds("2026-12-02 15:12:43Z"));
  CHECK_FALSE(jobs::epoch_seconds("2026-12-02T15:12:43.Z"));
  CHECK_FALSE(jobs::epoch_seconds(""));
}

TEST_CASE("write_textfile replaces the file whole, readable by all, and leaves no temporary file") {
  const auto dir = std::filesystem::temp_directory_path() / ("walletctl-textfile-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "job.prom").string();
  REQUIRE(jobs::write_textfile(path, "a 1\n").ok());
  REQUIRE(jobs::write_textfile(path, "b 2\n").ok());
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  CHECK(content.str() == "b 2\n");
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0644);
  CHECK(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()) == 1);
  const Status missing = jobs::write_textfile((dir / "no-such-dir" / "job.prom").string(), "c 3\n");
  CHECK(missing.code() == Code::invalid);
  CHECK(missing.message().find("no-such-dir/job.prom") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("label values are escaped as the exposition format says, in both programs' metrics") {
  CHECK(prometheus_label_value("plain") == "plain");
  CHECK(prometheus_label_value("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
  const std::string text = jobs::render_textfile({"re\"con", 1, 1, 0, true}, {}, "");
  CHECK(text.find("walletctl_job_completed{command=\"re\\\"con\"} 1\n") != std::string::npos);
}
