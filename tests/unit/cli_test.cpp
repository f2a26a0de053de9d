// walletctl argument handling that needs no database: parse errors map to
// exit 2, --help and --version work with a broken config, and input is
// validated before any connection is attempted.
#include <doctest/doctest.h>

#include <sstream>
#include <vector>

#include "cli/app.hpp"

namespace {

struct Run {
  int code;
  std::string out;
  std::string err;
};

Run run(std::vector<const char*> args) {
  args.insert(args.begin(), "walletctl");
  std::ostringstream out, err;
  const auto environment = [](const char* name) -> const char* {
    // No config files, and a database that cannot be reached.
    if (std::string(name) == "HOME") return "/nonexistent";
    if (std::string(name) == "WALLETCTL_DATABASE") return "host=/nonexistent/socket-dir port=1 connect_timeout=1";
    return nullptr;
  };
  int code = wallet::cli::run_cli(static_cast<int>(args.size()), args.data(), out, err, environment);
  return {code, out.str(), err.str()};
}

}  // namespace

TEST_CASE("--help and --version exit 0, even with a broken config file") {
  auto help = run({"--help"});
  CHECK(help.code == 0);
  CHECK(help.out.find("deposit") != std::string::npos);
  auto sub_help = run({"-c", "/nonexistent.toml", "deposit", "--help"});
  CHECK(sub_help.code == 0);
  CHECK(sub_help.out.find("--amount") != std::string::npos);
  auto version = run({"--version"});
  CHECK(version.code == 0);
  CHECK(version.out.find("walletctl 0.") == 0);
}

TEST_CASE("every parse error is exit 2 with one line on stderr") {
  for (auto args : std::vector<std::vector<const char*>>{
           {},
           {"frobnicate"},
           {"deposit", "--user", "alice", "--asset", "GC"},  // no --amount
           {"deposit", "--user", "alice", "--asset", "GC", "--amount", "5", "--bogus"},
           {"-o", "xml", "balance", "--user", "alice"},
           {"history", "--user", "alice", "--limit", "ten"},
           {"asset", "add", "GC", "--scale", "two"},
           {"asset"}}) {
    auto result = run(args);
    CHECK(result.code == 2);
    CHECK(result.err.rfind("walletctl: ", 0) == 0);
    CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
  }
}

TEST_CASE("invalid ids are refused before connecting, as JSON with -o json") {
  auto result = run({"-o", "json", "deposit", "--user", "bob smith", "--asset", "GC", "--amount", "5"});
  CHECK(result.code == 2);
  auto document = nlohmann::json::parse(result.out);
  CHECK(document["error"]["code"] == "invalid_input");
  CHECK(document["error"]["message"].get<std::string>().find("invalid user") == 0);

  CHECK(run({"transfer", "--from", "alice", "--to", "alice", "--asset", "GC", "--amount", "1"}).code == 2);
  CHECK(run({"deposit", "--user", "@treasury", "--asset", "GC", "--amount", "1"}).code == 2);
  CHECK(run({"deposit", "--user", "a", "--asset", "GC", "--amount", "1", "--kind", "purchase"}).code == 2);
  CHECK(run({"withdraw", "--user", "a", "--asset", "GC", "--amount", "1", "--key", "has space"}).code == 2);
  CHECK(run({"show", "12x"}).code == 2);
  CHECK(run({"--actor", std::string(65, 'a').c_str(), "balance", "--user", "a"}).code == 2);
}

TEST_CASE("an unreachable database is exit 75 with a message that says what was tried") {
  auto result = run({"balance", "--user", "alice"});
  CHECK(result.code == 75);
  CHECK(result.err.find("failed after") != std::string::npos);
}

TEST_CASE("csv fields are quoted per RFC 4180") {
  using wallet::cli::csv_field;
  CHECK(csv_field("plain") == "plain");
  CHECK(csv_field("a,b") == "\"a,b\"");
  CHECK(csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(csv_field("two\nlines") == "\"two\nlines\"");
}

TEST_CASE("csv cells that a spreadsheet would run as formulas are defused") {
  using wallet::cli::csv_field;
  CHECK(csv_field("=HYPERLINK(\"http://x\",\"y\")") == "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
  CHECK(csv_field("+1+1") == "'+1+1");
  CHECK(csv_field("-10.50") == "-10.50");
  CHECK(csv_field("@treasury") == "@treasury");
  CHECK(csv_field("@SUM(A1)") == "'@SUM(A1)");
}
