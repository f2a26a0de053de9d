#include "core/store/conninfo.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace wallet {

namespace {

constexpr std::string_view kMask = "***";

// Where a password stands in a text: [begin, end).
struct Span {
  std::size_t begin = 0;
  std::size_t end = 0;
};

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool is_word(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// Whether `text` at `pos` holds `word` (lower case), in any case.
bool equal_at(std::string_view text, std::size_t pos, std::string_view word) {
  if (pos + word.size() > text.size()) return false;
  return std::equal(word.begin(), word.end(), text.begin() + static_cast<std::ptrdiff_t>(pos),
                    [](char w, char t) { return std::tolower(static_cast<unsigned char>(t)) == w; });
}

// Where an unquoted keyword/value setting starting at `pos` ends. For
// display, at white space or '&' (the next setting of a URI query); when
// collecting `whole` secrets, only where the next "keyword=" or '&' starts,
// since a malformed string may hold a password with spaces in it.
std::size_t unquoted_end(std::string_view text, std::size_t pos, bool whole) {
  for (std::size_t i = pos; i < text.size(); ++i) {
    if (text[i] == '&') return i;
    if (!is_space(text[i])) continue;
    if (!whole) return i;
    std::size_t j = i;
    while (j < text.size() && is_space(text[j])) ++j;
    std::size_t k = j;
    while (k < text.size() && is_word(text[k])) ++k;
    while (k < text.size() && is_space(text[k])) ++k;
    if (k > j && k < text.size() && text[k] == '=') return i;
  }
  return text.size();
}

// The values of every setting whose keyword ends in "password" (password,
// sslpassword; keyword/value or in a URI query). A quoted value's span
// includes its quotes and ends at the closing quote, or at the end of the
// text when there is none.
void setting_passwords(std::string_view text, bool whole, std::vector<Span>& spans) {
  constexpr std::string_view kKey = "password";
  for (std::size_t at = 0; at + kKey.size() <= text.size(); ++at) {
    if (!equal_at(text, at, kKey)) continue;
    std::size_t pos = at + kKey.size();
    if (pos < text.size() && is_word(text[pos])) continue;  // a longer word: passwords, password_x
    while (pos < text.size() && is_space(text[pos])) ++pos;
    if (pos >= text.size() || text[pos] != '=') continue;
    ++pos;
    while (pos < text.size() && is_space(text[pos])) ++pos;
    Span span{pos, pos};
    if (pos < text.size() && text[pos] == '\'') {
      std::size_t i = pos + 1;
      while (i < text.size() && text[i] != '\'') i += text[i] == '\\' ? 2 : 1;
      span.end = std::min(i + 1, text.size());
    } else {
      span.end = unquoted_end(text, pos, whole);
    }
    if (span.end > span.begin) spans.push_back(span);
    at = span.end > at ? span.end - 1 : at;
  }
}

// The password of every postgresql:// or postgres:// URI: what follows the
// first ':' of the user information, up to its last '@' (before any '?').
// The URI ends at white space or a double quote, so that one that is
// malformed (no closing ']', an unencoded '/' or '@') still loses it.
void uri_passwords(std::string_view text, std::vector<Span>& spans) {
  for (std::size_t at = text.find("://"); at != std::string_view::npos; at = text.find("://", at + 3)) {
    const bool postgres = (at >= 10 && equal_at(text, at - 10, "postgresql")) || (at >= 8 && equal_at(text, at - 8, "postgres"));
    if (!postgres) continue;
    const std::size_t start = at + 3;
    std::size_t end = start;
    while (end < text.size() && !is_space(text[end]) && text[end] != '"') ++end;
    const std::size_t query = std::min(text.find('?', start), end);
    const std::size_t user_end = text.substr(0, query).rfind('@');
    if (user_end == std::string_view::npos || user_end < start) continue;
    const std::size_t colon = text.find(':', start);
    if (colon >= user_end) continue;
    if (user_end > colon + 1) spans.push_back({colon + 1, user_end});
  }
}

std::vector<Span> password_spans(std::string_view text, bool whole) {
  std::vector<Span> spans;
  uri_passwords(text, spans);
  setting_passwords(text, whole, spans);
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  return spans;
}

std::string mask_spans(std::string_view text, const std::vector<Span>& spans) {
  std::string out;
  std::size_t done = 0;
  for (const Span& span : spans) {
    if (span.end <= done) continue;  // inside one masked already
    out.append(text.substr(done, std::max(span.begin, done) - done));
    out.append(kMask);
    done = span.end;
  }
  out.append(text.substr(done));
  return out;
}

// Masks each double-quoted part of `text` that is a piece of one of
// `secrets` or holds one.
std::string mask_quoted_pieces(const std::string& text, const std::vector<std::string>& secrets) {
  std::string out;
  std::size_t done = 0;
  for (std::size_t open = text.find('"'); open != std::string::npos; open = text.find('"', done)) {
    const std::size_t close = text.find('"', open + 1);
    if (close == std::string::npos) break;
    const std::string piece = text.substr(open + 1, close - open - 1);
    const bool secret = !piece.empty() && std::any_of(secrets.begin(), secrets.end(), [&](const std::string& s) {
      return s.find(piece) != std::string::npos || piece.find(s) != std::string::npos;
    });
    out.append(text, done, open + 1 - done);
    out.append(secret ? std::string(kMask) : piece);
    out += '"';
    done = close + 1;
  }
  out.append(text, done);
  return out;
}

}  // namespace

std::string redact_secrets(std::string_view text, std::string_view conninfo) {
  std::string redacted = mask_spans(text, password_spans(text, false));
  if (conninfo.empty()) return redacted;
  std::vector<std::string> secrets;
  for (const Span& span : password_spans(conninfo, true)) {
    std::string_view value = conninfo.substr(span.begin, span.end - span.begin);
    if (value.size() >= 2 && value.front() == '\'') value = value.substr(1, value.size() - (value.back() == '\'' ? 2 : 1));
    if (!value.empty()) secrets.emplace_back(value);
  }
  return secrets.empty() ? redacted : mask_quoted_pieces(redacted, secrets);
}

Status check_conninfo(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options != nullptr) {
    PQconninfoFree(options);
    return Status::Ok();
  }
  std::string reason = error != nullptr ? error : "out of memory";
  if (error != nullptr) PQfreemem(error);
  while (!reason.empty() && is_space(reason.back())) reason.pop_back();
  return Status::Invalid("invalid database connection string: " + redact_secrets(reason, conninfo));
}

}  // namespace wallet
