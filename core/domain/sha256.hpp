// SHA-256 through OpenSSL, as 64 lower-case hex digits. Pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace wallet {

std::string sha256_hex(std::string_view text);

}  // namespace wallet
