// The digest anchor's file format, its parsing and its Ed25519 signature
// (pure: no database). See walletctl(1), DIGEST ANCHORS.
//
// An anchor is one small JSON document (what an operator signs, ships off
// the database host and may publish) plus its heads: one line per wallet,
// "<wallet id> <version> <hex hash of its last entry, or ->", in wallet id
// order. The heads live in a file beside the anchor (named by its "heads"
// member) or inline as an array of those lines. The anchor's merkle_root is
// the root over the heads (merkle.hpp), so the heads need no protection of
// their own: a heads file that does not hash to the (signed) root is
// refused, and any one wallet's head can be checked against the root
// without republishing the rest.
//
// The signature covers the document without its "signature" and "heads"
// members, serialized compactly with sorted keys (nlohmann::json::dump()).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/domain/status.hpp"
#include "reconcile/merkle.hpp"

namespace wallet::digest {

// Format 2 adds the audit chain ("audit"); format 1 anchors (written
// before the audit log was chained) still parse and verify, without it.
inline constexpr std::string_view kFormat = "walletctl-digest/2";
inline constexpr std::string_view kFormatV1 = "walletctl-digest/1";

// Largest anchor document read (the heads file is separate and streamed):
// inline heads of a million wallets stay well below this.
inline constexpr std::size_t kAnchorBytesMax = 256ull << 20;

// What the anchored ledger held of one asset, over the chains up to the
// anchored heads: entries, and the balances of user wallets and of system
// accounts (exact integers of minor units, as text: sums may exceed int64).
struct AssetTotals {
  int64_t entries = 0;
  std::string user_balance = "0";
  std::string system_balance = "0";

  bool operator==(const AssetTotals&) const = default;
};

struct Signature {
  std::string public_key;  // raw 32-byte Ed25519 public key, hex
  std::string value;       // 64-byte signature, hex
};

// One audit chain stripe's head at the anchor: its last row's seq (0:
// no rows yet) and hash (raw bytes, empty at seq 0).
struct AuditHead {
  int stripe = 0;
  int64_t seq = 0;
  std::string hash;

  bool operator==(const AuditHead&) const = default;
};

// The audit chain at the anchor (format 2): the highest audit row id the
// snapshot saw, the id of the first chained row (0 when none: rows below it
// were written before the chain existed, hash version 0), and every
// stripe's head, in stripe order.
struct AuditAnchor {
  int64_t max_id = 0;
  int64_t chained_from = 0;
  std::vector<AuditHead> stripes;

  bool operator==(const AuditAnchor&) const = default;
};

// Most stripes an anchor may hold (the database has 16; a bound on input).
inline constexpr std::size_t kAuditStripesMax = 1024;

struct Anchor {
  std::string created_at;  // database time of the snapshot, RFC 3339
  std::string database;    // current_database() where it was taken
  int64_t max_entry_id = 0;
  // The snapshot's xmin and xmax (64-bit transaction ids): an entry with an
  // id up to max_entry_id that is not in the anchor must have been written
  // by a transaction that was running when the snapshot was taken.
  int64_t snapshot_xmin = 0;
  int64_t snapshot_xmax = 0;
  int64_t wallets = 0;
  int64_t entries = 0;
  std::map<std::string, AssetTotals> assets;
  std::string merkle_root;  // hex
  std::vector<Head> heads;
  // Set on format 2 anchors; absent on format 1 ones (nothing of the audit
  // log is anchored then, and verify says so).
  std::optional<AuditAnchor> audit;
  std::optional<Signature> signature;
};

// The document as written, without heads and signature: the signed bytes
// are signed_message(anchor).
nlohmann::json to_json(const Anchor& anchor);
std::string signed_message(const Anchor& anchor);

// One heads line (no newline) and its parser. parse_head_line's error
// names what is wrong; the caller adds where.
std::string head_line(const Head& head);
Result<Head> parse_head_line(std::string_view line);

// Parses an anchor document and its heads: inline, or from the file its
// "heads" member names in `directory`. Checks the format, every member's
// type and range, that heads are in strictly increasing wallet id order,
// that their count matches "wallets", and that their Merkle root is the
// anchor's. Does not check the signature. Invalid (exit 2) with one line
// saying what is wrong on any failure.
Result<Anchor> parse_anchor(const std::string& text, const std::filesystem::path& directory);

// Reads and parses the anchor file `path` (Invalid when it cannot be read).
Result<Anchor> read_anchor(const std::filesystem::path& path);

// Writes the anchor to `path` and its heads to `path` + ".heads" (each via
// a temporary file renamed into place). Invalid when a file cannot be written.
Status write_anchor(const Anchor& anchor, const std::filesystem::path& path);

// The anchor with its heads inline, as one JSON document.
nlohmann::json to_json_with_heads(const Anchor& anchor);

// Signs the anchor with the Ed25519 private key in the PEM file `key_path`
// (sets anchor.signature). Invalid when the key cannot be read or is not
// an Ed25519 private key.
Status sign_anchor(Anchor& anchor, const std::filesystem::path& key_path);

// Checks the anchor's signature against the Ed25519 public key in the PEM
// file `public_key_path`. Invalid when the key cannot be read, the anchor
// is unsigned or signed by another key, or the signature does not verify.
Status verify_signature(const Anchor& anchor, const std::filesystem::path& public_key_path);

}  // namespace wallet::digest
