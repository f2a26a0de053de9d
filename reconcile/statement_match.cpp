#include "reconcile/statement_match.hpp"

#include <pqxx/pqxx>
#include <sstream>

#include "core/domain/amount.hpp"
#include "core/domain/timestamp.hpp"
#include "core/domain/validate.hpp"
#include "core/store/query.hpp"
#include "reconcile/statements.hpp"
#include "reconcile/statement_format.hpp"

namespace wallet {

namespace {

// Largest --amount-tolerance (minor units): far above any real fee, far
// below int64 overflow in the sums it is compared with.
constexpr int64_t kAmountToleranceMax = 1'000'000'000'000'000;

std::vector<int64_t> ids_of(const std::string& text) {
  std::vector<int64_t> ids;
  std::istringstream in(text);
  int64_t id = 0;
  while (in >> id) ids.push_back(id);
  return ids;
}

Result<int64_t> parse_tolerance(const std::string& text) {
  const auto bad = [&] {
    return Status::Invalid("invalid --amount-tolerance \"" + excerpt(text, 30) +
                           "\": expected a whole number of minor units from 0 to 10^15");
  };
  if (text.empty() || text.size() > 16) return bad();
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return bad();
    value = value * 10 + (c - '0');
  }
  if (value > kAmountToleranceMax) return bad();
  return value;
}

Result<StatementProfile> profile_of(const Config& config, const std::string& name) {
  if (name.empty()) return StatementProfile{};
  auto it = config.statement_profiles.find(name);
  if (it != config.statement_profiles.end()) return it->second;
  std::string known;
  for (const auto& [key, unused] : config.statement_profiles) known += (known.empty() ? "" : ", ") + key;
  return Status::Invalid("unknown statement profile \"" + excerpt(name, 64) + "\" (" +
                         (known.empty() ? std::string("the configuration defines none: add [statement.profiles.") +
                                              excerpt(name, 64) + "]"
                                        : "the configuration defines " + known) +
                         ")");
}

// Reads the recorded run `run_id` inside `tx`.
StatementReport read_report(Query& db, int64_t run_id) {
  StatementReport report;
  const pqxx::row h = db.exec1(reconcile_sql::statement("statement_run_header"), run_id);
  report.run_id = run_id;
  report.file_id = h[1].as<int64_t>();
  report.file_new = h[2].as<bool>();
  report.at = h[3].as<std::string>();
  report.actor = h[4].as<std::string>();
  report.account = h[5].as<std::string>();
  report.asset = h[6].as<std::string>();
  report.scale = h[7].as<int>();
  report.file_name = h[8].as<std::string>();
  report.format = h[9].as<std::string>();
  report.file_lines = h[10].as<int64_t>();
  report.since = h[11].as<std::string>();
  report.until = h[12].as<std::string>();
  report.amount_tolerance = h[13].as<std::string>();
  report.date_window = format_duration(Milliseconds{h[14].as<int64_t>()});
  for (const auto& row : db.exec(reconcile_sql::statement("statement_run_matches"), run_id, report.file_id)) {
    StatementMatch match;
    match.rule = row[0].as<std::string>();
    match.run_id = row[1].as<int64_t>();
    match.transactions = ids_of(row[2].as<std::string>());
    match.file_id = row[3].as<int64_t>();
    match.lines = ids_of(row[4].as<std::string>());
    report.matched.push_back(std::move(match));
  }
  for (const auto& row : db.exec(reconcile_sql::statement("statement_run_findings"), run_id)) {
    const std::string kind = row[0].as<std::string>();
    if (kind == "unmatched_transaction") {
      report.unmatched_transactions.push_back(row[3].as<int64_t>());
    } else if (kind == "mismatched") {
      report.mismatched.push_back({row[3].as<int64_t>(), row[1].as<int64_t>(), row[2].as<int64_t>(),
                                   row[4].as<std::string>(), row[5].as<std::string>(), row[6].as<std::string>()});
    } else {
      StatementUnmatchedLine line;
      line.file_id = row[1].as<int64_t>();
      line.line = row[2].as<int64_t>();
      line.reason = row[7].is_null() ? "" : row[7].as<std::string>();
      line.reference = row[8].as<std::string>();
      line.amount = format_amount(row[9].as<int64_t>(), report.scale);
      line.date = row[11].as<bool>() ? row[10].as<std::string>().substr(0, 10) : row[10].as<std::string>();
      line.description = row[12].as<std::string>();
      report.unmatched_lines.push_back(std::move(line));
    }
  }
  return report;
}

struct Prepared {
  StatementProfile profile;
  StatementFormat format = StatementFormat::csv;
  int scale = 0;
  int64_t tolerance = 0;
  std::optional<std::string> since, until;
  std::string sha256;
  nlohmann::json arguments;
};

Result<Prepared> prepare(Store& store, const Config& config, const StatementRunRequest& r) {
  Prepared p;
  if (Status s = validate_user_id(r.account); !s.ok()) return Status::Invalid("invalid --account: " + s.message());
  if (Status s = validate_asset_code(r.asset); !s.ok()) return s;
  auto profile = profile_of(config, r.profile);
  if (!profile.ok()) return profile.status();
  p.profile = *profile;
  auto format = statement_format_of(r.file, r.format, p.profile);
  if (!format.ok()) return format.status();
  p.format = *format;
  auto tolerance = parse_tolerance(r.amount_tolerance);
  if (!tolerance.ok()) return tolerance.status();
  p.tolerance = *tolerance;
  if (r.date_window > kStatementDateWindowMax || r.date_window.count() < 0) {
    return Status::Invalid("--date-window must be at most 31d");
  }
  for (auto [text, out, field] : {std::tuple{&r.since, &p.since, "--since"}, std::tuple{&r.until, &p.until, "--until"}}) {
    if (!*text) continue;
    auto parsed = parse_timestamp(**text, field);
    if (!parsed.ok()) return parsed.status();
    *out = *parsed;
  }
  auto scale = store.asset_scale(r.asset);
  if (!scale.ok()) return scale.status();
  p.scale = *scale;
  auto sha256 = file_sha256(r.file);
  if (!sha256.ok()) return sha256.status();
  p.sha256 = *sha256;
  p.arguments = {{"file", excerpt(r.file, 1000)},
                 {"sha256", p.sha256},
                 {"format", statement_format_name(p.format)},
                 {"profile", r.profile},
                 {"account", r.account},
                 {"asset", r.asset},
                 {"since", p.since ? nlohmann::json(*p.since) : nlohmann::json(nullptr)},
                 {"until", p.until ? nlohmann::json(*p.until) : nlohmann::json(nullptr)},
                 {"amount_tolerance", p.tolerance},
                 {"date_window", format_duration(r.date_window)}};
  return p;
}

nlohmann::json optional_text(const std::string& text) { return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text); }

}  // namespace

Result<StatementReport> run_statement(Store& store, const Config& config, const StatementRunRequest& request) {
  auto prepared = prepare(store, config, request);
  if (!prepared.ok()) return prepared.status();
  const Prepared& p = *prepared;
  StatementReport report;
  Status file_status;
  Status status = store.run("reconcile statement", [&](pqxx::connection_base& c) {
    file_status = Status::Ok();
    pqxx::work tx(c);
    Query db(tx, store.options());
    tx.exec(std::string(reconcile_sql::statement("statement_upload_create").text));
    tx.exec(std::string(reconcile_sql::statement("statement_upload_grant").text));
    {
      pqxx::stream_to upload(tx, "statement_upload",
                             std::vector<std::string>{"line", "booked_at", "whole_day", "amount", "reference",
                                                      "description", "currency"});
      file_status = read_statement_file(request.file, p.format, p.profile, p.scale, [&](const StatementLine& line) {
        upload << std::make_tuple(line.line, line.date.at, line.date.whole_day, line.amount, line.reference,
                                  line.description, line.currency);
        return Status::Ok();
      });
      upload.complete();
    }
    if (!file_status.ok()) return;  // the transaction rolls back: nothing recorded
    const auto optional = [](const std::optional<std::string>& v) { return v ? v->c_str() : nullptr; };
    const int64_t run_id = db.exec1(reconcile_sql::statement("statement_run"), request.account, request.asset, p.sha256,
                                    excerpt(request.file, 1000), std::string(statement_format_name(p.format)),
                                    optional(p.since), optional(p.until), p.tolerance,
                                    static_cast<int64_t>(request.date_window.count()), request.actor,
                                    p.arguments.dump())[0]
                               .as<int64_t>();
    report = read_report(db, run_id);
    if (request.dry_run) {
      tx.abort();
      report.run_id.reset();
      report.dry_run = true;
      return;
    }
    tx.commit();
  });
  if (!file_status.ok()) return file_status;
  if (!status.ok()) return status;
  return report;
}

Result<StatementReport> statement_run_report(Store& store, int64_t run_id) {
  StatementReport report;
  bool found = false;
  Status status = store.run("reconcile statement --run", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    Query db(tx, store.options());
    found = !db.exec(reconcile_sql::statement("statement_run_header"), run_id).empty();
    if (found) report = read_report(db, run_id);
  });
  if (!status.ok()) return status;
  if (!found) return Status::NotFound("statement run " + std::to_string(run_id) + " not found");
  return report;
}

Result<std::vector<StatementRunSummary>> statement_runs(Store& store, const std::optional<std::string>& account,
                                                        const std::optional<std::string>& asset, int limit) {
  if (limit < 1 || limit > kStatementRunsListMax) {
    return Status::Invalid("--limit must be from 1 to " + std::to_string(kStatementRunsListMax));
  }
  std::vector<StatementRunSummary> runs;
  Status status = store.run("reconcile statement --list", [&](pqxx::connection_base& c) {
    runs.clear();
    pqxx::read_transaction tx(c);
    Query db(tx, store.options());
    for (const auto& row : db.exec(reconcile_sql::statement("statement_runs"), account ? account->c_str() : nullptr,
                                   asset ? asset->c_str() : nullptr, limit)) {
      StatementRunSummary s;
      s.run_id = row[0].as<int64_t>();
      s.at = row[1].as<std::string>();
      s.actor = row[2].as<std::string>();
      s.account = row[3].as<std::string>();
      s.asset = row[4].as<std::string>();
      s.file_name = row[5].as<std::string>();
      s.format = row[6].as<std::string>();
      s.file_lines = row[7].as<int64_t>();
      s.file_new = row[8].as<bool>();
      s.since = row[9].as<std::string>();
      s.until = row[10].as<std::string>();
      s.matched_groups = row[11].as<int64_t>();
      s.unmatched_lines = row[12].as<int64_t>();
      s.unmatched_transactions = row[13].as<int64_t>();
      s.mismatched = row[14].as<int64_t>();
      runs.push_back(std::move(s));
    }
  });
  if (!status.ok()) return status;
  return runs;
}

int exit_code_of(const StatementReport& report) {
  const bool clean = report.unmatched_lines.empty() && report.unmatched_transactions.empty() && report.mismatched.empty();
  return clean ? 0 : kExitUnmatched;
}

nlohmann::json to_json(const StatementReport& r) {
  nlohmann::json matched = nlohmann::json::array();
  for (const auto& m : r.matched) {
    matched.push_back({{"transactions", m.transactions}, {"lines", m.lines}, {"rule", m.rule},
                       {"file_id", m.file_id}, {"run_id", m.run_id}});
  }
  nlohmann::json unmatched_lines = nlohmann::json::array();
  for (const auto& l : r.unmatched_lines) {
    unmatched_lines.push_back({{"line", l.line}, {"reference", l.reference}, {"amount", l.amount}, {"date", l.date},
                               {"description", l.description}, {"file_id", l.file_id},
                               {"reason", optional_text(l.reason)}});
  }
  nlohmann::json mismatched = nlohmann::json::array();
  for (const auto& m : r.mismatched) {
    mismatched.push_back({{"transaction_id", m.transaction_id}, {"line", m.line}, {"field", m.field},
                          {"ledger", m.ledger}, {"statement", m.statement}, {"file_id", m.file_id}});
  }
  return {{"run_id", r.run_id ? nlohmann::json(*r.run_id) : nlohmann::json(nullptr)},
          {"dry_run", r.dry_run},
          {"clean", exit_code_of(r) == 0},
          {"file", {{"id", r.dry_run && r.file_new ? nlohmann::json(nullptr) : nlohmann::json(r.file_id)},
                    {"name", r.file_name},
                    {"format", r.format},
                    {"lines", r.file_lines},
                    {"imported_before", !r.file_new}}},
          {"account", r.account},
          {"asset", r.asset},
          {"since", r.since},
          {"until", r.until},
          {"amount_tolerance", r.amount_tolerance},
          {"date_window", r.date_window},
          {"matched", matched},
          {"unmatched_transactions", r.unmatched_transactions},
          {"unmatched_lines", unmatched_lines},
          {"mismatched", mismatched}};
}

nlohmann::json to_json(const StatementRunSummary& s) {
  return {{"run_id", s.run_id},
          {"at", s.at},
          {"actor", s.actor},
          {"account", s.account},
          {"asset", s.asset},
          {"file", s.file_name},
          {"format", s.format},
          {"lines", s.file_lines},
          {"imported_before", !s.file_new},
          {"since", s.since},
          {"until", s.until},
          {"matched", s.matched_groups},
          {"unmatched_lines", s.unmatched_lines},
          {"unmatched_transactions", s.unmatched_transactions},
          {"mismatched", s.mismatched}};
}

}  // namespace wallet
