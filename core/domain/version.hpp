#pragma once

namespace wallet {
inline constexpr const char* kVersion = "0.1.0";
}
