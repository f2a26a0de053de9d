#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "core/config/config.hpp"

using namespace wallet;

namespace {

struct FakeEnvironment {
  std::map<std::string, std::string> values;
  EnvironmentLookup lookup() const {
    return [this](const char* name) -> const char* {
      auto it = values.find(name);
      return it == values.end() ? nullptr : it->second.c_str();
    };
  }
};

std::string write_temp(const std::string& name, const std::string& text) {
  auto path = std::filesystem::temp_directory_path() / ("walletctl-test-" + name);
  std::ofstream(path) << text;
  return path.string();
}

}  // namespace

TEST_CASE("config precedence: flag > environment > file > default") {
  const std::string file = write_temp("prec.toml", "database = \"dbname=fromfile\"\n[holds]\ntimeout = \"2h\"\n");
  FakeEnvironment env;
  env.values["HOME"] = "/nonexistent";

  auto defaults = load_config({}, env.lookup());
  REQUIRE(defaults.ok());
  CHECK(defaults->database.empty());
  CHECK(defaults->holds_timeout == Milliseconds{24LL * 3600 * 1000});
  CHECK(defaults->sources["database"] == "default");

  ConfigFlags flags;
  flags["config"] = file;
  auto from_file = load_config(flags, env.lookup());
  REQUIRE(from_file.ok());
  CHECK(from_file->database == "dbname=fromfile");
  CHECK(from_file->holds_timeout == Milliseconds{2LL * 3600 * 1000});
  CHECK(from_file->sources["database"] == file);

  env.values["WALLETCTL_DATABASE"] = "dbname=fromenv";
  auto from_env = load_config(flags, env.lookup());
  REQUIRE(from_env.ok());
  CHECK(from_env->database == "dbname=fromenv");
  CHECK(from_env->sources["database"] == "environment");

  flags["database"] = "dbname=fromflag";
  auto from_flag = load_config(flags, env.lookup());
  REQUIRE(from_flag.ok());
  CHECK(from_flag->database == "dbname=fromflag");
  CHECK(from_flag->sources["database"] == "flag");
  CHECK(from_flag->holds_timeout == Milliseconds{2LL * 3600 * 1000});  // still from the file
}

TEST_CASE("WALLETCTL_CONFIG names the file when --config is absent") {
  const std::string file = write_temp("envfile.toml", "[log]\nlevel = \"debug\"\n");
  FakeEnvironment env;
  env.values["WALLETCTL_CONFIG"] = file;
  auto config = load_config({}, env.lookup());
  REQUIRE(config.ok());
  CHECK(config->log_level == "debug");
  CHECK(config->file == file);
}

TEST_CASE("the user's default config file is read when it exists") {
  auto home = std::filesystem::temp_directory_path() / "walletctl-test-home";
  std::filesystem::create_directories(home / ".config/walletctl");
  std::ofstream(home / ".config/walletctl/config.toml") << "database = \"dbname=home\"\n";
  FakeEnvironment env;
  env.values["HOME"] = home.string();
  auto config = load_config({}, env.lookup());
  REQUIRE(config.ok());
  CHECK(config->database == "dbname=home");
}

TEST_CASE("a broken config file is a one-line invalid-input error naming file and key") {
  Config config;
  Status syntax = apply_config_text("database = \n", "f.toml", config);
  CHECK(syntax.code() == Code::invalid);
  CHECK(syntax.message().rfind("f.toml:1", 0) == 0);

  Status unknown = apply_config_text("databse = \"x\"\n", "f.toml", config);
  CHECK(unknown.message() == "f.toml: unknown key \"databse\"");

  Status unknown_nested = apply_config_text("[daemon]\nthreds = 4\n", "f.toml", config);
  CHECK(unknown_nested.message() == "f.toml: unknown key \"daemon.threds\"");

  Status wrong_type = apply_config_text("[daemon]\nthreads = \"four\"\n", "f.toml", config);
  CHECK(wrong_type.code() == Code::invalid);
  CHECK(wrong_type.message().find("daemon.threads") != std::string::npos);

  Status bad_duration = apply_config_text("[holds]\ntimeout = \"forever\"\n", "f.toml", config);
  CHECK(bad_duration.message().find("holds.timeout") != std::string::npos);

  Status bad_level = apply_config_text("[log]\nlevel = \"loud\"\n", "f.toml", config);
  CHECK(bad_level.code() == Code::invalid);

  FakeEnvironment env;
  ConfigFlags flags;
  flags["config"] = "/nonexistent/walletctl.toml";
  CHECK(load_config(flags, env.lookup()).status().code() == Code::invalid);
}

TEST_CASE("every documented key is accepted") {
  Config config;
  Status s = apply_config_text(R"(
database = "host=/tmp dbname=wallet"
[log]
level = "warn"
[holds]
timeout = "1h"
[settlement]
command = "/bin/true"
timeout = "5s"
[reconcile]
stuck_after = "10m"
[daemon]
listen = "127.0.0.1:9000"
threads = 4
pool_size = 4
tokens = ["a", "b"]
rate_limit_per_second = 50
body_bytes_max = 4096
request_timeout = "3s"
worker_interval = "1s"
)", "all.toml", config);
  REQUIRE(s.ok());
  CHECK(config.daemon.tokens.size() == 2);
  CHECK(config.daemon.listen == "127.0.0.1:9000");
  CHECK(config.settlement_timeout == Milliseconds{5000});
  CHECK(config.reconcile_stuck_after == Milliseconds{600'000});
}

TEST_CASE("read_database and prepared_statements: flag > environment > file > default") {
  const std::string file =
      write_temp("read.toml", "database = \"dbname=main\"\nread_database = \"dbname=file\"\nprepared_statements = false\n");
  FakeEnvironment env;
  env.values["HOME"] = "/nonexistent";

  auto defaults = load_config({}, env.lookup());
  REQUIRE(defaults.ok());
  CHECK(defaults->read_database.empty());
  CHECK(defaults->prepared_statements);
  CHECK(defaults->sources["read_database"] == "default");
  CHECK(defaults->sources["prepared_statements"] == "default");
  defaults->database = "dbname=main";
  CHECK(read_conninfo(*defaults) == "dbname=main");  // no read database: the main one

  ConfigFlags flags;
  flags["config"] = file;
  auto from_file = load_config(flags, env.lookup());
  REQUIRE(from_file.ok());
  CHECK(from_file->read_database == "dbname=file");
  CHECK(read_conninfo(*from_file) == "dbname=file");
  CHECK_FALSE(from_file->prepared_statements);
  CHECK(from_file->sources["prepared_statements"] == file);

  env.values["WALLETCTL_READ_DATABASE"] = "dbname=env";
  env.values["WALLETCTL_PREPARED_STATEMENTS"] = "on";
  auto from_env = load_config(flags, env.lookup());
  REQUIRE(from_env.ok());
  CHECK(from_env->read_database == "dbname=env");
  CHECK(from_env->prepared_statements);
  CHECK(from_env->sources["prepared_statements"] == "environment");

  flags["read_database"] = "dbname=flag";
  flags["prepared_statements"] = "false";
  auto from_flag = load_config(flags, env.lookup());
  REQUIRE(from_flag.ok());
  CHECK(from_flag->read_database == "dbname=flag");
  CHECK_FALSE(from_flag->prepared_statements);
  CHECK(from_flag->sources["read_database"] == "flag");

  for (const char* off : {"off", "false", "0"}) {
    env.values["WALLETCTL_PREPARED_STATEMENTS"] = off;
    auto config = load_config({}, env.lookup());
    REQUIRE(config.ok());
    CHECK_FALSE(config->prepared_statements);
  }
  env.values["WALLETCTL_PREPARED_STATEMENTS"] = "sometimes";
  auto invalid = load_config({}, env.lookup());
  CHECK(invalid.status().code() == Code::invalid);
  CHECK(invalid.status().message().find("WALLETCTL_PREPARED_STATEMENTS") != std::string::npos);

  Config config;
  Status wrong_type = apply_config_text("prepared_statements = \"no\"\n", "f.toml", config);
  CHECK(wrong_type.code() == Code::invalid);
  CHECK(wrong_type.message().find("prepared_statements must be true or false") != std::string::npos);
}

TEST_CASE("[[daemon.tokens]]: named, hashed, scoped tokens and the daemon's server keys") {
  const std::string hash(64, 'a');
  Config config;
  Status s = apply_config_text(R"([daemon]
io_threads = 3
connections_max = 100
auth_failures_per_minute = 7
tls_cert = "/etc/cert.pem"
tls_key = "/etc/key.pem"
allow_plaintext = true
[[daemon.tokens]]
name = "payments-api"
sha256 = ")" + std::string(64, 'A') + R"("
scopes = ["read", "move", "read"]
[[daemon.tokens]]
name = "ops"
sha256 = ")" + std::string(64, 'b') + R"("
scopes = ["operate"]
)", "tokens.toml", config);
  REQUIRE(s.ok());
  REQUIRE(config.daemon.named_tokens.size() == 2);
  CHECK(config.daemon.named_tokens[0].name == "payments-api");
  CHECK(config.daemon.named_tokens[0].sha256 == hash);  // normalized to lower case
  CHECK(config.daemon.named_tokens[0].scopes == std::vector<std::string>{"read", "move"});
  CHECK(config.daemon.tokens.empty());
  CHECK(config.daemon.io_threads == 3);
  CHECK(config.daemon.connections_max == 100);
  CHECK(config.daemon.auth_failures_per_minute == 7);
  CHECK(config.daemon.allow_plaintext);
  CHECK(config.daemon.tls_key == "/etc/key.pem");

  const auto refused = [](const std::string& text, const std::string& why) {
    Config c;
    Status st = apply_config_text(text, "bad.toml", c);
    CHECK_MESSAGE(!st.ok(), text);
    CHECK_MESSAGE(st.message().find(why) != std::string::npos, st.message());
  };
  const std::string ok_hash = "sha256 = \"" + std::string(64, 'c') + "\"\n";
  refused("[[daemon.tokens]]\nname = \"a\"\n" + ok_hash + "scopes = [\"admin\"]\n", "among read, move, operate");
  refused("[[daemon.tokens]]\nname = \"a\"\n" + ok_hash + "scopes = []\n", "non-empty array");
  refused("[[daemon.tokens]]\nname = \"a\"\nsha256 = \"abc\"\nscopes = [\"read\"]\n", "64 hex digits");
  refused("[[daemon.tokens]]\nname = \"a b\"\n" + ok_hash + "scopes = [\"read\"]\n", "name must be");
  refused("[[daemon.tokens]]\nname = \"a\"\n" + ok_hash + "scopes = [\"read\"]\ntoken = \"x\"\n", "unknown key \"token\"");
  refused("[[daemon.tokens]]\nname = \"a\"\n" + ok_hash + "scopes = [\"read\"]\n[[daemon.tokens]]\nname = \"a\"\nsha256 = \"" +
              std::string(64, 'd') + "\"\nscopes = [\"read\"]\n",
          "repeats the name or hash");
  refused("[daemon]\ntls_cert = \"/c.pem\"\n", "go together");
  refused("[daemon]\nconnections_max = 0\n", "connections_max must be");
  refused("[daemon]\ntokens = [1]\n", "daemon.tokens must be");
}

TEST_CASE("[settlement] env: a table of variables; bad names, non-strings and the ledger's own variables refused") {
  Config config;
  REQUIRE(apply_config_text("[settlement]\ncommand = \"/bin/true\"\n[settlement.env]\nPAYOUT_URL = \"https://p\"\n"
                            "_X1 = \"\"\n",
                            "env.toml", config)
              .ok());
  CHECK(config.settlement_env == std::map<std::string, std::string>{{"PAYOUT_URL", "https://p"}, {"_X1", ""}});
  Config inline_form;
  REQUIRE(apply_config_text("[settlement]\nenv = { A = \"1\" }\n", "env.toml", inline_form).ok());
  CHECK(inline_form.settlement_env.at("A") == "1");
  for (const char* bad : {"[settlement]\nenv = [\"A=1\"]\n", "[settlement.env]\nA = 1\n",
                          "[settlement.env]\n\"1A\" = \"x\"\n", "[settlement.env]\n\"A-B\" = \"x\"\n",
                          "[settlement.env]\nPGPASSWORD = \"x\"\n", "[settlement.env]\nWALLETCTL_DATABASE = \"x\"\n",
                          "[settlement.env]\nPGHOST = \"x\"\n", "[settlement.env]\nA = \"x\\u0000y\"\n"}) {
    Config c;
    Status s = apply_config_text(bad, "env.toml", c);
    CHECK_MESSAGE(s.code() == Code::invalid, bad);
    CHECK(s.message().find("settlement.env") != std::string::npos);
    CHECK(c.settlement_env.empty());
  }
}
