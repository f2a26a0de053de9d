// Validation of every identifier and bounded text a user controls. Each
// returns Ok or Invalid with a one-line reason naming the field.
#pragma once

#include <string>
#include <string_view>

#include "core/domain/status.hpp"

namespace wallet {

// Bounds of user-controlled input (the LIMITS table of walletctl(1) and the
// README; the database's CHECK constraints hold the same bounds).
inline constexpr std::size_t kUserIdMax = 64;          // external ids: UUIDs fit
inline constexpr std::size_t kAssetCodeMax = 12;        // ISO 4217 codes and short credit names fit
inline constexpr std::size_t kIdempotencyKeyMax = 128;  // two UUIDs and a prefix
inline constexpr std::size_t kMemoMax = 500;            // a sentence, not a document (bytes)
inline constexpr std::size_t kReasonMax = kMemoMax;     // void --reason, stored as the last error
// An external reference: ISO 20022's longest id (AcctSvcrRef, Ustrd) is 140;
// statement_lines.reference and the transactions CHECK hold the same bound.
inline constexpr std::size_t kReferenceMax = 140;
inline constexpr std::size_t kAssetNameMax = 200;       // bytes
inline constexpr std::size_t kActorMax = 64;            // an OS user or a service name (bytes)
inline constexpr int kHistoryLimitMax = 1000;           // one page
inline constexpr int kHistoryLimitDefault = 50;
inline constexpr int kAuditLimitMax = 10'000;           // rows of one audit listing

// [A-Za-z0-9._:@-]{1,64}. Ids starting with '@' are system accounts.
Status validate_user_id(std::string_view user);
// Like validate_user_id, but refuses system accounts ('@...'): for the user
// side of a movement and for wallet create.
Status validate_user_wallet_owner(std::string_view user);
// [A-Z0-9_]{2,12}
Status validate_asset_code(std::string_view code);
// Printable ASCII without spaces, 1..128 chars.
Status validate_idempotency_key(std::string_view key);
// Valid UTF-8 of at most `max_bytes`, without control characters (C0, DEL,
// C1) or bidirectional overrides and isolates, which could make output lie
// on a terminal. Used for memos, names, reasons and actors.
Status validate_text(std::string_view text, std::string_view field, std::size_t max_bytes);
inline Status validate_memo(std::string_view memo, std::string_view field = "memo") {
  return validate_text(memo, field, kMemoMax);
}
// An external reference (a bank's or provider's id): 1 to kReferenceMax bytes, as a memo.
inline Status validate_reference(std::string_view reference) {
  if (reference.empty()) return Status::Invalid("reference must not be empty");
  return validate_text(reference, "reference", kReferenceMax);
}
inline Status validate_reason(std::string_view reason) { return validate_text(reason, "reason", kReasonMax); }
inline Status validate_actor(std::string_view actor) { return validate_text(actor, "actor", kActorMax); }

bool is_system_user(std::string_view user);

// Well-formed UTF-8: no stray continuation bytes, overlong forms,
// surrogates, or code points above U+10FFFF.
bool is_valid_utf8(std::string_view text);

// User text quoted back in an error: valid UTF-8 of at most `max_bytes`
// (cut at a whole character, "..." added when cut), one line: invalid
// bytes, control characters and bidirectional overrides shown as '?'.
std::string excerpt(std::string_view text, std::size_t max_bytes);

}  // namespace wallet
