#include "core/validate.hpp"

#include <string>

namespace wallet {

namespace {

std::string shown(std::string_view text) {
  constexpr std::size_t kShownMax = 70;
  std::string out;
  for (char c : text.substr(0, kShownMax)) {
    const auto byte = static_cast<unsigned char>(c);
    out += (byte < 0x20 || byte == 0x7f) ? '?' : c;
  }
  if (text.size() > kShownMax) out += "...";
  return out;
}

bool is_user_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == ':' || c == '@' || c == '-';
}

}  // namespace

bool is_system_user(std::string_view user) { return !user.empty() && user.front() == '@'; }

Status validate_user_id(std::string_view user) {
  if (user.empty() || user.size() > kUserIdMax) {
    return Status::Invalid("invalid user \"" + shown(user) + "\": must be 1 to 64 characters");
  }
  for (char c : user) {
    if (!is_user_char(c)) {
      return Status::Invalid("invalid user \"" + shown(user) +
                             "\": only letters, digits and . _ : @ - are allowed");
    }
  }
  return Status::Ok();
}

Status validate_user_wallet_owner(std::string_view user) {
  Status status = validate_user_id(user);
  if (!status.ok()) return status;
  if (is_system_user(user)) {
    return Status::Invalid("invalid user \"" + shown(user) +
                           "\": ids starting with @ are reserved for system accounts");
  }
  return Status::Ok();
}

Status validate_asset_code(std::string_view code) {
  bool good = code.size() >= 2 && code.size() <= 12;
  for (char c : code) {
    good = good && ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (!good) {
    return Status::Invalid("invalid asset \"" + shown(code) +
                           "\": 2 to 12 characters of A-Z, 0-9 and _");
  }
  return Status::Ok();
}

Status validate_idempotency_key(std::string_view key) {
  bool good = !key.empty() && key.size() <= kIdempotencyKeyMax;
  for (char c : key) good = good && c > 0x20 && c < 0x7f;
  if (!good) {
    return Status::Invalid("invalid idempotency key \"" + shown(key) +
                           "\": 1 to 128 printable characters without spaces");
  }
  return Status::Ok();
}

Status validate_memo(std::string_view memo, std::string_view field) {
  if (memo.size() > kMemoMax) {
    return Status::Invalid(std::string(field) + " is too long: at most " +
                           std::to_string(kMemoMax) + " bytes");
  }
  for (char c : memo) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      return Status::Invalid(std::string(field) + " must not contain control characters");
    }
  }
  return Status::Ok();
}

}  // namespace wallet
