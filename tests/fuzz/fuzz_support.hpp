// Shared checks of the fuzz targets: an invariant that fails prints what
// was violated and aborts, which libFuzzer reports as a crash and saves the
// input (see README, "Fuzzing").
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/domain/shapes.hpp"
#include "core/domain/status.hpp"
#include "core/domain/validate.hpp"

namespace wallet::fuzz {

[[noreturn]] inline void fail(std::string_view what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz invariant violated: %.*s\n  detail: %.*s\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

inline void check(bool condition, std::string_view what, std::string_view detail = {}) {
  if (!condition) fail(what, detail);
}

// An error a user sees (DESIGN §6: "errors go to stderr as one line", and
// as {"error": {"code", "message"}} JSON): a non-empty message of one line,
// without control characters, valid UTF-8 so the JSON error document can
// be written, and not absurdly long.
inline void check_error_message(const Status& status) {
  check(!status.ok(), "an error status is not ok");
  const std::string& message = status.message();
  check(!message.empty(), "error message is not empty");
  check(message.size() <= 1024, "error message is at most 1 KiB", message.substr(0, 200));
  for (char c : message) {
    const auto byte = static_cast<unsigned char>(c);
    check(byte >= 0x20 && byte != 0x7f, "error message is one line without control characters", message);
  }
  check(is_valid_utf8(message), "error message is valid UTF-8", message);
  try {
    check(!error_json(status).dump().empty(), "the error JSON document is written");
  } catch (const std::exception& e) {
    fail("error JSON can be written", e.what());
  }
}

}  // namespace wallet::fuzz
