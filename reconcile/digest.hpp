// walletctl digest and digest verify: the ledger's state anchored outside
// the database (DESIGN §10; walletctl(1), DIGEST ANCHORS).
//
// take() reads, in one REPEATABLE READ READ ONLY snapshot, every wallet's
// chain head (the version and hash of its last ledger entry), the per-asset
// totals up to those heads, the highest entry id and the snapshot's
// transaction-id bounds, every audit chain stripe's head (seq and hash of
// its last row) and the highest audit id, and returns the anchor
// (anchor.hpp, format 2).
//
// verify() checks, in one snapshot, that today's ledger still extends the
// anchored state:
//   * every anchored wallet exists, and its chain from version 1 up to the
//     anchored version is intact (versions and balances continue, every
//     hash recomputes and chains) and ends at the anchored hash: so no
//     entry up to an anchored head was changed, removed or inserted;
//   * per asset, the entries and the balances after the anchored heads
//     (user wallets, system accounts) equal the anchored totals;
//   * no entry with an id up to the anchor's highest entry id lies beyond
//     the anchored heads, unless the transaction that wrote it was running
//     when the digest was taken (it committed after the snapshot; entries
//     need not commit in id order). An entry forged into the anchored past
//     is written by a later transaction, and is reported.
//   * (format 2 anchors) every audit chain stripe from seq 1 up to its
//     anchored seq recomputes and ends at the anchored hash, so no audit
//     row up to the anchor was changed or removed (the first such row is
//     named); and no audit row with an id from the first chained row up to
//     the anchor's highest audit id lies outside the anchored chains,
//     unless its transaction was running when the digest was taken.
// Entries appended after the anchor are not judged here: they look like
// any new movement (the audit chain and statement matching cover them).
//
// Both run on any Store (a hot standby too) with only the application
// role's rights, and never write.
#pragma once

#include <nlohmann/json.hpp>

#include "core/domain/types.hpp"
#include "core/store/store.hpp"
#include "reconcile/anchor.hpp"

namespace wallet::digest {

// Exit code of a verification that found the ledger no longer extends the
// anchor (DESIGN §6: the same 10 as reconcile's drift).
inline constexpr int kExitNotExtended = 10;

// Takes an anchor of the ledger's current state (unsigned).
Result<Anchor> take(Store& store);

struct VerifyReport {
  int64_t wallets = 0;         // anchored wallets checked
  int64_t entries = 0;         // entries recomputed up to the anchored heads
  int64_t entries_after = 0;   // entries written after the anchor (not judged)
  int64_t audit_rows = 0;      // audit rows recomputed up to the anchored stripe heads (format 2)
  bool signature_checked = false;
  std::vector<Drift> findings;  // empty: the ledger extends the anchor
};

Result<VerifyReport> verify(Store& store, const Anchor& anchor);

// 0 when the ledger extends the anchor, else kExitNotExtended.
int exit_code_of(const VerifyReport& report);

nlohmann::json to_json(const VerifyReport& report, const Anchor& anchor);

}  // namespace wallet::digest
