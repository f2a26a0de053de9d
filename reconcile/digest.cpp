#include "reconcile/digest.hpp"

#include <pqxx/pqxx>

#include "reconcile/statements.hpp"

namespace wallet::digest {

namespace {

// Anchored heads verified per statement: bounds the arrays sent and the
// rows one window pass holds, like reconcile's chunks.
constexpr std::size_t kChunkHeads = 20'000;

using ReadOnlySnapshot = pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::readwrite_policy::read_only>;

// Runs the statement reconcile/sql/`name`.sql, unnamed (PQexecParams): a
// digest runs rarely, so preparing buys nothing, and this works through
// PgBouncer in transaction pooling mode as it is.
template <typename... Args>
pqxx::result exec(pqxx::transaction_base& tx, std::string_view name, Args&&... args) {
  return tx.exec_params(std::string(reconcile_sql::statement(name).text), std::forward<Args>(args)...);
}

// The heads [begin, end) as three PostgreSQL array literals.
struct HeadArrays {
  std::string ids = "{";
  std::string versions = "{";
  std::string hashes = "{";
};

HeadArrays arrays_of(std::vector<Head>::const_iterator begin, std::vector<Head>::const_iterator end) {
  HeadArrays a;
  for (auto it = begin; it != end; ++it) {
    const char* separator = it == begin ? "" : ",";
    a.ids += separator + std::to_string(it->wallet_id);
    a.versions += separator + std::to_string(it->version);
    a.hashes += separator + ("\"" + to_hex(it->hash) + "\"");
  }
  a.ids += "}";
  a.versions += "}";
  a.hashes += "}";
  return a;
}

Drift wallet_finding(const pqxx::row& row, const std::string& check, const std::string& detail) {
  Drift d;
  d.check = check;
  d.wallet_id = row[0].as<int64_t>();
  if (!row[1].is_null()) d.user = row[1].as<std::string>();
  if (!row[2].is_null()) d.asset = row[2].as<std::string>();
  d.detail = detail;
  return d;
}

// Turns one failing wallet row of digest_verify_chains into findings.
void chain_findings(const pqxx::row& row, std::vector<Drift>& findings) {
  const std::string wallet = "wallet " + row[0].as<std::string>();
  const int64_t version = row[3].as<int64_t>();
  if (!row[8].as<bool>()) {
    findings.push_back(wallet_finding(row, "digest_wallet", wallet + " is in the anchor at version " +
                                                               std::to_string(version) + " but no longer exists"));
    return;
  }
  if (!row[5].is_null()) {
    findings.push_back(wallet_finding(row, "digest_chain", "entry version " + row[5].as<std::string>() + " of " + wallet +
                                                              " does not continue the previous entry (version or balance)"));
  }
  if (!row[6].is_null()) {
    findings.push_back(wallet_finding(row, "digest_chain", "entry version " + row[6].as<std::string>() + " of " + wallet +
                                                              " has a hash that does not match its contents and predecessor"));
  }
  if (row[4].as<int64_t>() != version) {
    findings.push_back(wallet_finding(row, "digest_chain", wallet + " had " + std::to_string(version) +
                                                              " entries at the anchor; " + row[4].as<std::string>() +
                                                              " of them remain"));
  }
  if (!row[7].as<bool>()) {
    findings.push_back(wallet_finding(row, "digest_head", "the entry at version " + std::to_string(version) + " of " +
                                                             wallet + " no longer has the anchored hash: its history was rewritten"));
  }
}

// Whether the 32-bit transaction id `xmin` lies in the anchor's snapshot
// window [xmin, xmax): a transaction that was running when it was taken.
bool running_at_anchor(int64_t xmin, const Anchor& anchor) {
  const uint64_t span = static_cast<uint64_t>(anchor.snapshot_xmax - anchor.snapshot_xmin);
  const uint32_t offset = static_cast<uint32_t>(static_cast<uint64_t>(xmin) - static_cast<uint64_t>(anchor.snapshot_xmin));
  return offset < span;
}

void late_findings(const pqxx::result& rows, const Anchor& anchor, std::vector<Drift>& findings) {
  for (const auto& row : rows) {
    if (running_at_anchor(row[6].as<int64_t>(), anchor)) continue;
    Drift d;
    d.check = "digest_past";
    d.wallet_id = row[1].as<int64_t>();
    d.user = row[2].as<std::string>();
    d.asset = row[3].as<std::string>();
    d.transaction_id = row[5].as<int64_t>();
    d.detail = "ledger entry " + row[0].as<std::string>() + " (version " + row[4].as<std::string>() +
               ") has an id at or below the anchor's highest entry id " + std::to_string(anchor.max_entry_id) +
               " but is not in the anchor, and its transaction was not running when the anchor was taken: "
               "it was written into the anchored past";
    findings.push_back(d);
  }
}

// The audit stripes as three PostgreSQL array literals.
HeadArrays audit_arrays_of(const AuditAnchor& audit) {
  HeadArrays a;
  for (const auto& h : audit.stripes) {
    const char* separator = a.ids.size() == 1 ? "" : ",";
    a.ids += separator + std::to_string(h.stripe);
    a.versions += separator + std::to_string(h.seq);
    a.hashes += separator + ("\"" + to_hex(h.hash) + "\"");
  }
  a.ids += "}";
  a.versions += "}";
  a.hashes += "}";
  return a;
}

Drift audit_finding(const std::string& check, const std::string& detail) {
  Drift d;
  d.check = check;
  d.detail = detail;
  return d;
}

// The audit chain up to the anchored stripes' heads, and audit rows
// written into the anchored past. Returns the rows verified.
int64_t verify_audit(pqxx::transaction_base& tx, const Anchor& anchor, std::vector<Drift>& findings) {
  const AuditAnchor& audit = *anchor.audit;
  const HeadArrays a = audit_arrays_of(audit);
  int64_t verified = 0;
  for (const auto& row : exec(tx, "digest_verify_audit", a.ids, a.versions, a.hashes)) {
    if (row[3].is_null()) {
      verified = row[4].as<int64_t>();
      continue;
    }
    findings.push_back(audit_finding("digest_audit", row[3].as<std::string>()));
  }
  for (const auto& row : exec(tx, "digest_verify_audit_late", a.ids, a.versions, a.hashes, audit.chained_from,
                              audit.max_id)) {
    if (running_at_anchor(row[3].as<int64_t>(), anchor)) continue;
    findings.push_back(audit_finding(
        "digest_audit_past",
        "audit row " + row[0].as<std::string>() + " has an id at or below the anchor's highest audit id " +
            std::to_string(audit.max_id) + " but is not in the anchored audit chains (" +
            (row[1].is_null() ? std::string("no chain") : "stripe " + row[1].as<std::string>() + " seq " +
                                                              (row[2].is_null() ? "none" : row[2].as<std::string>())) +
            "), and its transaction was not running when the anchor was taken: it was written into the anchored past"));
  }
  return verified;
}

void asset_findings(const pqxx::result& rows, const Anchor& anchor, const std::map<std::string, int>& scales,
                    std::vector<Drift>& findings) {
  std::map<std::string, AssetTotals> today;
  for (const auto& row : rows) {
    today[row[0].as<std::string>()] = {row[1].as<int64_t>(), row[2].as<std::string>(), row[3].as<std::string>()};
  }
  auto finding = [&](const std::string& asset, const std::string& stored, const std::string& computed,
                     const std::string& detail) {
    Drift d;
    d.check = "digest_asset";
    d.asset = asset;
    auto scale = scales.find(asset);
    d.scale = scale == scales.end() ? 0 : scale->second;
    d.stored = stored;
    d.computed = computed;
    d.detail = detail;
    findings.push_back(d);
  };
  for (const auto& [asset, anchored] : anchor.assets) {
    const AssetTotals now = today.count(asset) != 0 ? today[asset] : AssetTotals{};
    if (now.entries != anchored.entries) {
      finding(asset, "", "", asset + " had " + std::to_string(anchored.entries) + " entries at the anchor; " +
                                 std::to_string(now.entries) + " remain up to the anchored heads");
    }
    if (now.user_balance != anchored.user_balance) {
      finding(asset, anchored.user_balance, now.user_balance, "user wallets of " + asset + " held another total at the anchor");
    }
    if (now.system_balance != anchored.system_balance) {
      finding(asset, anchored.system_balance, now.system_balance,
              "system accounts of " + asset + " held another total at the anchor");
    }
  }
  for (const auto& [asset, now] : today) {
    if (anchor.assets.count(asset) == 0) {
      finding(asset, "", "", "anchored wallets now belong to asset " + asset + ", which the anchor does not hold");
    }
  }
}

}  // namespace

Result<Anchor> take(Store& store) {
  Anchor anchor;
  Status status = store.run("digest", [&](pqxx::connection_base& c) {
    anchor = Anchor{};
    ReadOnlySnapshot tx(c);
    const auto snapshot = exec(tx, "digest_snapshot")[0];
    anchor.snapshot_xmin = snapshot[0].as<int64_t>();
    anchor.snapshot_xmax = snapshot[1].as<int64_t>();
    anchor.database = snapshot[2].as<std::string>();
    anchor.created_at = snapshot[3].as<std::string>();
    anchor.max_entry_id = snapshot[4].as<int64_t>();
    for (const auto& row : exec(tx, "digest_heads")) {
      Head head{row[0].as<int64_t>(), row[1].as<int64_t>(), ""};
      if (!from_hex(row[2].as<std::string>(), head.hash)) throw std::logic_error("encode(hash, 'hex') is not hex");
      anchor.entries += head.version;
      anchor.heads.push_back(std::move(head));
    }
    for (const auto& row : exec(tx, "digest_totals")) {
      anchor.assets[row[0].as<std::string>()] = {row[1].as<int64_t>(), row[2].as<std::string>(),
                                                 row[3].as<std::string>()};
    }
    AuditAnchor audit;
    const auto bounds = exec(tx, "digest_audit_bounds")[0];
    audit.max_id = bounds[0].as<int64_t>();
    audit.chained_from = bounds[1].as<int64_t>();
    for (const auto& row : exec(tx, "digest_audit_heads")) {
      AuditHead head{row[0].as<int>(), row[1].as<int64_t>(), ""};
      if (!from_hex(row[2].as<std::string>(), head.hash)) throw std::logic_error("encode(hash, 'hex') is not hex");
      audit.stripes.push_back(std::move(head));
    }
    anchor.audit = std::move(audit);
    tx.commit();
  });
  if (!status.ok()) return status;
  anchor.wallets = static_cast<int64_t>(anchor.heads.size());
  anchor.merkle_root = to_hex(merkle_root(anchor.heads));
  return anchor;
}

Result<VerifyReport> verify(Store& store, const Anchor& anchor) {
  VerifyReport report;
  Status status = store.run("digest verify", [&](pqxx::connection_base& c) {
    report = VerifyReport{};
    ReadOnlySnapshot tx(c);
    std::map<std::string, int> scales;
    for (const auto& row : exec(tx, "digest_scales")) scales[row[0].as<std::string>()] = row[1].as<int>();
    const auto& heads = anchor.heads;
    // Chunks of heads; chunk i covers the wallet ids from its first head
    // (from 1 for the first chunk) up to the next chunk's first head (all
    // ids for the last), so that wallets the anchor does not hold are
    // looked at too.
    for (std::size_t begin = 0; begin < heads.size() || begin == 0; begin += kChunkHeads) {
      const std::size_t end = std::min(begin + kChunkHeads, heads.size());
      const int64_t from = begin == 0 ? 1 : heads[begin].wallet_id;
      const int64_t to = end == heads.size() ? INT64_MAX : heads[end].wallet_id;
      const HeadArrays a = arrays_of(heads.begin() + static_cast<std::ptrdiff_t>(begin),
                                     heads.begin() + static_cast<std::ptrdiff_t>(end));
      for (const auto& row : exec(tx, "digest_verify_chains", a.ids, a.versions, a.hashes)) {
        if (row[0].is_null()) {
          report.entries += row[4].as<int64_t>();
          continue;
        }
        chain_findings(row, report.findings);
      }
      late_findings(exec(tx, "digest_verify_late", a.ids, a.versions, a.hashes, from, to, anchor.max_entry_id), anchor,
                    report.findings);
      if (end == heads.size()) break;
    }
    const HeadArrays all = arrays_of(heads.begin(), heads.end());
    asset_findings(exec(tx, "digest_verify_totals", all.ids, all.versions, all.hashes), anchor, scales, report.findings);
    report.entries_after = exec(tx, "digest_entries_after", anchor.max_entry_id)[0][0].as<int64_t>();
    if (anchor.audit) report.audit_rows = verify_audit(tx, anchor, report.findings);
    tx.commit();
  });
  if (!status.ok()) return status;
  report.wallets = anchor.wallets;
  return report;
}

int exit_code_of(const VerifyReport& report) { return report.findings.empty() ? 0 : kExitNotExtended; }

nlohmann::json to_json(const VerifyReport& report, const Anchor& anchor) {
  return {{"extends", report.findings.empty()},
          {"anchor", {{"created_at", anchor.created_at},
                      {"database", anchor.database},
                      {"max_entry_id", anchor.max_entry_id},
                      {"merkle_root", anchor.merkle_root}}},
          {"signature_checked", report.signature_checked},
          {"checked", {{"wallets", report.wallets}, {"entries", report.entries},
                       {"audit_rows", anchor.audit ? nlohmann::json(report.audit_rows) : nlohmann::json(nullptr)}}},
          {"entries_after", report.entries_after}};
}

}  // namespace wallet::digest
