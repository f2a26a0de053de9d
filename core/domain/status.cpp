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

std::string_view code_name(Code code) { return info(code).name; }
int exit_code(Code code) { return info(code).exit_code; }
int http_status(Code code) { return info(code).http_status; }

}  // namespace wallet
