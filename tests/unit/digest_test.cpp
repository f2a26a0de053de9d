// The digest anchor's pure parts: the Merkle tree (RFC 6962 test vectors),
// heads lines, anchor parsing and the Ed25519 signature.
#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "reconcile/anchor.hpp"
#include "reconcile/merkle.hpp"

using namespace wallet::digest;

namespace {

Hash leaf_of(const std::string& data) { return sha256(std::string(1, '\x00') + data); }

std::string bytes_of_hex(const std::string& hex) {
  std::string bytes;
  REQUIRE(from_hex(hex, bytes));
  return bytes;
}

Anchor sample_anchor() {
  Anchor a;
  a.created_at = "2026-12-02T10:00:00.000000Z";
  a.database = "wallet";
  a.max_entry_id = 9;
  a.snapshot_xmin = 700;
  a.snapshot_xmax = 703;
  a.heads = {{1, 0, ""}, {2, 3, std::string(32, 'a')}, {5, 2, std::string(32, 'b')}};
  a.wallets = 3;
  a.entries = 5;
  a.assets["GC"] = {5, "1500", "-1500"};
  a.merkle_root = to_hex(merkle_root(a.heads));
  a.audit = AuditAnchor{12, 3, {{0, 0, ""}, {1, 2, std::string(32, 'c')}, {7, 1, std::string(32, 'd')}}};
  return a;
}

// A fresh Ed25519 key pair as PEM files in `directory`.
void write_key_pair(const std::filesystem::path& directory, const std::string& name) {
  EVP_PKEY* key = nullptr;
  EVP_PKEY_CTX* context = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
  REQUIRE(context != nullptr);
  REQUIRE(EVP_PKEY_keygen_init(context) == 1);
  REQUIRE(EVP_PKEY_keygen(context, &key) == 1);
  EVP_PKEY_CTX_free(context);
  std::FILE* file = std::fopen((directory / (name + ".pem")).c_str(), "w");
  REQUIRE(PEM_write_PrivateKey(file, key, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  std::fclose(file);
  file = std::fopen((directory / (name + "_pub.pem")).c_str(), "w");
  REQUIRE(PEM_write_PUBKEY(file, key) == 1);
  std::fclose(file);
  EVP_PKEY_free(key);
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char name[] = "/tmp/digest-unit-XXXXXX";
    REQUIRE(mkdtemp(name) != nullptr);
    path = name;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("merkle root follows RFC 6962 (its published test vectors)") {
  const std::vector<std::string> data = {"", bytes_of_hex("00"), bytes_of_hex("10"), bytes_of_hex("2021"),
                                         bytes_of_hex("3031"), bytes_of_hex("40414243"),
                                         bytes_of_hex("5051525354555657"),
                                         bytes_of_hex("606162636465666768696a6b6c6d6e6f")};
  const std::vector<std::string> roots = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  std::vector<Hash> leaves;
  for (std::size_t i = 0; i < data.size(); ++i) {
    leaves.push_back(leaf_of(data[i]));
    CHECK(to_hex(merkle_root(leaves)) == roots[i]);
  }
  CHECK(to_hex(merkle_root(std::vector<Hash>{})) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("a head's leaf is its id, version and hash; any change to a head changes the root") {
  std::string hash;
  for (int i = 0; i < 32; ++i) hash.push_back(static_cast<char>(i));
  CHECK(to_hex(leaf_hash({5, 1, hash})) == "0cf1f10fde2aa374565bbcdaea1bba46b575682938ef0026cfc27fffd990c731");
  const std::vector<Head> heads = {{1, 0, ""}, {2, 1, hash}, {3, 4, std::string(32, 'x')}};
  const std::string root = to_hex(merkle_root(heads));
  auto changed = heads;
  changed[1].version = 2;
  CHECK(to_hex(merkle_root(changed)) != root);
  changed = heads;
  changed[2].hash[31] ^= 1;
  CHECK(to_hex(merkle_root(changed)) != root);
  changed = heads;
  std::swap(changed[0], changed[1]);
  CHECK(to_hex(merkle_root(changed)) != root);
  changed = heads;
  changed.pop_back();
  CHECK(to_hex(merkle_root(changed)) != root);
}

TEST_CASE("heads lines round-trip and refuse anything else") {
  const Head head{42, 7, std::string(32, '\x11')};
  CHECK(head_line(head) == "42 7 " + std::string(64, '1'));
  CHECK(parse_head_line(head_line(head)).value() == head);
  CHECK(parse_head_line("3 0 -").value() == Head{3, 0, ""});
  for (const char* bad : {"", "1 2", "1 2 3 4", "0 0 -", "-1 0 -", "x 0 -", "1 -1 -", "1 0 ab", "1 1 -",
                          "1 1 abc", "99999999999999999999 0 -", "1  0 -"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_head_line(bad).ok());
  }
  CHECK_FALSE(parse_head_line("1 1 " + std::string(64, 'A')).ok());  // upper case is not the format
  CHECK_FALSE(parse_head_line("1 1 " + std::string(62, 'a')).ok());
}

TEST_CASE("an anchor with inline heads parses back to what was written") {
  const Anchor a = sample_anchor();
  auto parsed = parse_anchor(to_json_with_heads(a).dump(), ".");
  REQUIRE(parsed.ok());
  CHECK(parsed->heads == a.heads);
  CHECK(parsed->assets == a.assets);
  CHECK(signed_message(*parsed) == signed_message(a));
}

TEST_CASE("a malformed anchor is refused with what is wrong") {
  const nlohmann::json good = to_json_with_heads(sample_anchor());
  auto refused = [](const nlohmann::json& doc, const std::string& message) {
    auto parsed = parse_anchor(doc.dump(), ".");
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == wallet::Code::invalid);
    CHECK(parsed.status().message().find(message) != std::string::npos);
  };
  CHECK_FALSE(parse_anchor("{\"format\": ", ".").ok());
  CHECK_FALSE(parse_anchor("[]", ".").ok());
  auto doc = good;
  doc["format"] = "walletctl-digest/9";
  refused(doc, "format");
  doc = good;
  doc["wallets"] = 4;
  refused(doc, "heads hold 3 wallets");
  doc = good;
  doc["entries"] = 6;
  refused(doc, "add up to 5 entries");
  doc = good;
  doc["max_entry_id"] = -1;
  refused(doc, "max_entry_id");
  doc = good;
  doc["max_entry_id"] = "9";
  refused(doc, "max_entry_id");
  doc = good;
  doc["assets"]["GC"]["user_balance"] = "1.5";
  refused(doc, "user_balance");
  doc = good;
  doc["merkle_root"] = std::string(64, '0');
  refused(doc, "merkle_root");
  doc = good;
  doc["heads"][1] = "1 3 " + std::string(64, '6');
  refused(doc, "strictly increasing");
  doc = good;
  doc["heads"] = "../etc/passwd";
  refused(doc, "beside the anchor");
  doc = good;
  doc.erase("heads");
  refused(doc, "\"heads\" is missing");
  doc = good;
  doc["signature"] = {{"algorithm", "rsa"}, {"public_key", ""}, {"value", ""}};
  refused(doc, "signature");
  doc = good;
  doc["snapshot"] = {{"xmin", 5}, {"xmax", 4}};
  refused(doc, "xmax");
}

TEST_CASE("an anchor written to a file with its heads beside it reads back; a missing heads file is refused") {
  TempDir dir;
  const Anchor a = sample_anchor();
  REQUIRE(write_anchor(a, dir.path / "d.json").ok());
  CHECK(std::filesystem::exists(dir.path / "d.json.heads"));
  auto read = read_anchor(dir.path / "d.json");
  REQUIRE(read.ok());
  CHECK(read->heads == a.heads);
  std::filesystem::remove(dir.path / "d.json.heads");
  auto missing = read_anchor(dir.path / "d.json");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message().find("cannot read heads file") != std::string::npos);
  CHECK_FALSE(read_anchor(dir.path / "none.json").ok());
}

TEST_CASE("an Ed25519 signature verifies with its key only, and not after any change") {
  TempDir dir;
  write_key_pair(dir.path, "key");
  write_key_pair(dir.path, "other");
  Anchor a = sample_anchor();
  CHECK_FALSE(verify_signature(a, dir.path / "key_pub.pem").ok());  // unsigned
  REQUIRE(sign_anchor(a, dir.path / "key.pem").ok());
  CHECK(verify_signature(a, dir.path / "key_pub.pem").ok());
  auto reread = parse_anchor(to_json_with_heads(a).dump(), ".");
  REQUIRE(reread.ok());
  CHECK(verify_signature(*reread, dir.path / "key_pub.pem").ok());
  CHECK(verify_signature(a, dir.path / "other_pub.pem").message().find("another key") != std::string::npos);
  Anchor changed = a;
  changed.max_entry_id += 1;
  CHECK(verify_signature(changed, dir.path / "key_pub.pem").message().find("does not verify") != std::string::npos);
  changed = a;
  changed.assets["GC"].user_balance = "1501";
  CHECK_FALSE(verify_signature(changed, dir.path / "key_pub.pem").ok());
  CHECK_FALSE(sign_anchor(a, dir.path / "key_pub.pem").ok());       // a public key cannot sign
  CHECK_FALSE(verify_signature(a, dir.path / "key.pem").ok());      // nor is a private key a public one
  CHECK_FALSE(sign_anchor(a, dir.path / "none.pem").ok());
}

TEST_CASE("the audit stripes of a format 2 anchor round-trip, are signed, and malformed ones are refused") {
  const Anchor a = sample_anchor();
  const nlohmann::json good = to_json_with_heads(a);
  CHECK(good["format"] == "walletctl-digest/2");
  auto parsed = parse_anchor(good.dump(), ".");
  REQUIRE(parsed.ok());
  REQUIRE(parsed->audit.has_value());
  CHECK(*parsed->audit == *a.audit);
  Anchor changed = a;
  changed.audit->stripes[1].seq = 3;
  CHECK(signed_message(changed) != signed_message(a));
  changed = a;
  changed.audit->max_id = 13;
  CHECK(signed_message(changed) != signed_message(a));
  auto refused = [](const nlohmann::json& doc, const std::string& message) {
    auto result = parse_anchor(doc.dump(), ".");
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().message().find(message) != std::string::npos);
  };
  auto doc = good;
  doc.erase("audit");
  refused(doc, "\"audit\" must be an object");
  doc = good;
  doc["audit"]["stripes"][1]["hash"] = "abcd";
  refused(doc, "each audit stripe");
  doc = good;
  doc["audit"]["stripes"][0]["hash"] = std::string(64, 'a');  // seq 0 has no hash
  refused(doc, "each audit stripe");
  doc = good;
  doc["audit"]["stripes"][2]["stripe"] = 1;
  refused(doc, "strictly increasing");
  doc = good;
  doc["audit"]["max_id"] = -1;
  refused(doc, "max_id");
  doc = good;
  doc["format"] = "walletctl-digest/1";
  refused(doc, "has no \"audit\" member");
}

TEST_CASE("a format 1 anchor (before the audit chain) still parses, and its signature still verifies") {
  TempDir dir;
  write_key_pair(dir.path, "key");
  Anchor v1 = sample_anchor();
  v1.audit.reset();
  REQUIRE(sign_anchor(v1, dir.path / "key.pem").ok());
  const nlohmann::json doc = to_json_with_heads(v1);
  CHECK(doc["format"] == "walletctl-digest/1");
  CHECK_FALSE(doc.contains("audit"));
  auto parsed = parse_anchor(doc.dump(), ".");
  REQUIRE(parsed.ok());
  CHECK_FALSE(parsed->audit.has_value());
  CHECK(verify_signature(*parsed, dir.path / "key_pub.pem").ok());
}
