#include "core/domain/validate.hpp"

#include <string>

namespace wallet {

namespace {

std::string shown(std::string_view text) { return excerpt(text, 70); }

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
  bool good = code.size() >= 2 && code.size() <= kAssetCodeMax;
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

namespace {

// Decodes the UTF-8 code point at text[i], advancing i; -1 when invalid
// (bad lead or continuation byte, overlong form, surrogate, beyond U+10FFFF).
int32_t next_code_point(std::string_view text, std::size_t& i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  int length = 0;
  int32_t cp = 0;
  if (lead < 0x80) return text[i++];
  if ((lead & 0xE0) == 0xC0) length = 2, cp = lead & 0x1F;
  else if ((lead & 0xF0) == 0xE0) length = 3, cp = lead & 0x0F;
  else if ((lead & 0xF8) == 0xF0) length = 4, cp = lead & 0x07;
  else return -1;
  if (i + static_cast<std::size_t>(length) > text.size()) return -1;
  for (int k = 1; k < length; ++k) {
    if ((byte(i + static_cast<std::size_t>(k)) & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (byte(i + static_cast<std::size_t>(k)) & 0x3F);
  }
  static const int32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinimum[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  i += static_cast<std::size_t>(length);
  return cp;
}

bool is_forbidden(int32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)  // C0, DEL, C1 controls
         || cp == 0x061C || cp == 0x200E || cp == 0x200F        // bidi marks
         || (cp >= 0x202A && cp <= 0x202E)                       // bidi embeddings, overrides
         || (cp >= 0x2066 && cp <= 0x2069);                      // bidi isolates
}

}  // namespace

std::string excerpt(std::string_view text, std::size_t max_bytes) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t start = i;
    const int32_t cp = next_code_point(text, i);
    if (cp < 0) i = start + 1;  // one invalid byte: shown as '?', resynchronize
    const std::size_t length = cp < 0 || is_forbidden(cp) ? 1 : i - start;
    // Cut at a whole code point: a cut multi-byte character is invalid UTF-8.
    if (out.size() + length > max_bytes) {
      i = start;
      break;
    }
    if (cp < 0 || is_forbidden(cp)) {
      out += '?';
    } else {
      out.append(text.substr(start, length));
    }
  }
  if (i < text.size()) out += "...";
  return out;
}

bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    if (next_code_point(text, i) < 0) return false;
  }
  return true;
}

Status validate_text(std::string_view text, std::string_view field, std::size_t max_bytes) {
  if (text.size() > max_bytes) {
    return Status::Invalid(std::string(field) + " is too long: at most " + std::to_string(max_bytes) + " bytes");
  }
  for (std::size_t i = 0; i < text.size();) {
    const int32_t cp = next_code_point(text, i);
    if (cp < 0) return Status::Invalid(std::string(field) + " is not valid UTF-8");
    if (is_forbidden(cp)) {
      return Status::Invalid(std::string(field) + " must not contain control or bidirectional-override characters");
    }
  }
  return Status::Ok();
}

}  // namespace wallet
