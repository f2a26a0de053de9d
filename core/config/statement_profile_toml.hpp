// Internal to core/config: reading [statement.profiles] from a parsed TOML
// file (config.cpp calls it; statement_profile.cpp defines it).
#pragma once

#include <map>
#include <string>
#include <toml++/toml.h>

#include "core/config/statement_profile.hpp"

namespace wallet {

// Reads the tables under [statement.profiles] into `profiles`. Invalid,
// naming the file (`source`), profile and key, for an unknown key, a value
// of the wrong type, or an inconsistent profile (the decimal separator
// also a thousands separator, a delimiter longer than one character, ...).
Status read_statement_profiles(const toml::table& profiles_table, const std::string& source,
                               std::map<std::string, StatementProfile>& profiles);

}  // namespace wallet
