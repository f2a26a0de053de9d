#include "core/domain/status.hpp"

namespace wallet {

namespace {

struct CodeInfo {
  Code code;
  std::string_view name;
  int exit_code;
  int http_status;
};

// The one table that gives every error its name, exit code and HTTP status.
constexpr CodeInfo kCodes[] = {
    {Code::ok, "ok", 0, 200},
    {Code::internal, "internal", 1, 500},
    {Code::invalid, "invalid_input", 2, 400},
    {Code::insufficient_funds, "insufficient_funds", 3, 422},
    {Code::not_found, "not_found", 4, 404},
    {Code::conflict, "conflict", 5, 409},
    {Code::temporary, "unavailable", 75, 503},
};

const CodeInfo& info(Code code) {
  for (const auto& entry : kCodes) {
    if (entry.code == code) return entry;
  }
  assert(false && "every Code has a row in kCodes");
  return kCodes[1];
}

}  // namespace

namespace {
// Marks a field name in a message: a control character, which no excerpt of
// user text contains (excerpt() shows them as '?').
constexpr char kFieldMark = '\x1f';
}  // namespace

std::string field_ref(std::string_view field) {
  return std::string(1, kFieldMark) + std::string(field) + std::string(1, kFieldMark);
}

std::string name_fields(std::string_view message, const std::function<std::string(std::string_view)>& name) {
  std::string out;
  for (std::size_t at = 0; at < message.size();) {
    const std::size_t open = message.find(kFieldMark, at);
    const std::size_t close = open == std::string_view::npos ? open : message.find(kFieldMark, open + 1);
    if (close == std::string_view::npos) {
      out += message.substr(at);
      break;
    }
    out += message.substr(at, open - at);
    out += name(message.substr(open + 1, close - open - 1));
    at = close + 1;
  }
  return out;
}

std::string_view code_name(Code code) { return info(code).name; }
int exit_code(Code code) { return info(code).exit_code; }
int http_status(Code code) { return info(code).http_status; }

}  // namespace wallet
