#include "reconcile/anchor.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

namespace wallet::digest {

namespace {

// Wallet ids and versions are positive bigints; 19 digits hold any of them.
constexpr std::size_t kIntegerDigitsMax = 19;

bool parse_int64(std::string_view text, int64_t& value) {
  if (text.empty() || text.size() > kIntegerDigitsMax) return false;
  int64_t result = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    if (result > (INT64_MAX - (c - '0')) / 10) return false;
    result = result * 10 + (c - '0');
  }
  value = result;
  return true;
}

// An exact integer as PostgreSQL's numeric prints it: optional minus, digits.
bool is_integer_text(const std::string& text) {
  std::size_t start = (!text.empty() && text[0] == '-') ? 1 : 0;
  if (text.size() == start || text.size() - start > 40) return false;
  for (std::size_t i = start; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  return true;
}

Status invalid(const std::string& what) { return Status::Invalid("malformed digest anchor: " + what); }

// The member `key` of `doc` as a non-negative integer.
Status read_count(const nlohmann::json& doc, const char* key, int64_t& value) {
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_number_integer() || it->get<int64_t>() < 0) {
    return invalid(std::string("\"") + key + "\" must be a non-negative integer");
  }
  value = it->get<int64_t>();
  return Status::Ok();
}

Status read_text(const nlohmann::json& doc, const char* key, std::string& value) {
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_string()) return invalid(std::string("\"") + key + "\" must be a string");
  value = it->get<std::string>();
  return Status::Ok();
}

Status read_assets(const nlohmann::json& doc, std::map<std::string, AssetTotals>& assets) {
  auto it = doc.find("assets");
  if (it == doc.end() || !it->is_object()) return invalid("\"assets\" must be an object");
  for (const auto& [code, totals] : it->items()) {
    if (!totals.is_object()) return invalid("asset " + code + " must be an object");
    AssetTotals t;
    if (Status s = read_count(totals, "entries", t.entries); !s.ok()) return invalid("asset " + code + ": " + s.message());
    for (auto [key, field] : {std::pair{"user_balance", &t.user_balance}, std::pair{"system_balance", &t.system_balance}}) {
      if (Status s = read_text(totals, key, *field); !s.ok() || !is_integer_text(*field)) {
        return invalid("asset " + code + ": \"" + key + "\" must be an integer as text");
      }
    }
    assets[code] = t;
  }
  return Status::Ok();
}

// The "audit" member of a format 2 anchor: {max_id, chained_from,
// stripes: [{stripe, seq, hash}]}, stripes strictly increasing.
Status read_audit(const nlohmann::json& doc, std::optional<AuditAnchor>& audit) {
  auto it = doc.find("audit");
  if (it == doc.end() || !it->is_object()) return invalid("\"audit\" must be an object");
  AuditAnchor a;
  for (Status s : {read_count(*it, "max_id", a.max_id), read_count(*it, "chained_from", a.chained_from)}) {
    if (!s.ok()) return invalid("audit: " + s.message());
  }
  auto stripes = it->find("stripes");
  if (stripes == it->end() || !stripes->is_array() || stripes->size() > kAuditStripesMax) {
    return invalid("\"audit\".\"stripes\" must be an array of at most " + std::to_string(kAuditStripesMax));
  }
  for (const auto& entry : *stripes) {
    AuditHead head;
    int64_t stripe = 0;
    std::string hash;
    if (!entry.is_object() || !read_count(entry, "stripe", stripe).ok() || stripe > 32767 ||
        !read_count(entry, "seq", head.seq).ok() || !read_text(entry, "hash", hash).ok() ||
        !from_hex(hash, head.hash) || head.hash.size() != (head.seq == 0 ? 0u : 32u)) {
      return invalid("each audit stripe must be {stripe: 0-32767, seq: >= 0, hash: 64 hex digits (\"\" at seq 0)}");
    }
    head.stripe = static_cast<int>(stripe);
    if (!a.stripes.empty() && head.stripe <= a.stripes.back().stripe) {
      return invalid("audit stripes must be in strictly increasing order");
    }
    a.stripes.push_back(std::move(head));
  }
  audit = std::move(a);
  return Status::Ok();
}

Status read_signature(const nlohmann::json& doc, std::optional<Signature>& signature) {
  auto it = doc.find("signature");
  if (it == doc.end() || it->is_null()) return Status::Ok();
  std::string algorithm;
  Signature s;
  std::string bytes;
  if (!it->is_object() || !read_text(*it, "algorithm", algorithm).ok() || algorithm != "ed25519" ||
      !read_text(*it, "public_key", s.public_key).ok() || !from_hex(s.public_key, bytes) || bytes.size() != 32 ||
      !read_text(*it, "value", s.value).ok() || !from_hex(s.value, bytes) || bytes.size() != 64) {
    return invalid("\"signature\" must be {algorithm: \"ed25519\", public_key: 64 hex digits, value: 128 hex digits}");
  }
  signature = s;
  return Status::Ok();
}

// Reads heads lines from `in` (a file, or the inline array's lines joined).
Status read_heads(std::istream& in, const std::string& where, std::vector<Head>& heads) {
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    auto head = parse_head_line(line);
    if (!head.ok()) return invalid(where + " line " + std::to_string(number) + ": " + head.status().message());
    if (!heads.empty() && head->wallet_id <= heads.back().wallet_id) {
      return invalid(where + " line " + std::to_string(number) + ": wallet ids must be strictly increasing");
    }
    heads.push_back(*head);
  }
  return Status::Ok();
}

Status read_heads_member(const nlohmann::json& doc, const std::filesystem::path& directory, std::vector<Head>& heads) {
  auto it = doc.find("heads");
  if (it == doc.end()) return invalid("\"heads\" is missing (a file name or an array of lines)");
  if (it->is_array()) {
    std::string lines;
    for (const auto& line : *it) {
      if (!line.is_string()) return invalid("\"heads\" must hold strings");
      const std::string& text = line.get_ref<const std::string&>();
      if (text.find('\n') != std::string::npos) return invalid("a heads line holds a newline");
      lines += text + "\n";
    }
    std::istringstream in(lines);
    return read_heads(in, "heads", heads);
  }
  if (!it->is_string()) return invalid("\"heads\" must be a file name or an array of lines");
  const std::string name = it->get<std::string>();
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    return invalid("\"heads\" must name a file beside the anchor, got \"" + name.substr(0, 100) + "\"");
  }
  const std::filesystem::path path = directory / name;
  std::ifstream in(path);
  if (!in) return Status::Invalid("cannot read heads file " + path.string() + ": " + std::strerror(errno));
  Status status = read_heads(in, path.filename().string(), heads);
  if (status.ok() && in.bad()) return Status::Invalid("cannot read heads file " + path.string());
  return status;
}

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;

// Reads a PEM key (private when `is_private`) that must be Ed25519.
Result<PkeyPtr> read_key(const std::filesystem::path& path, bool is_private) {
  const char* what = is_private ? "private" : "public";
  std::FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) {
    return Status::Invalid(std::string("cannot read ") + what + " key " + path.string() + ": " + std::strerror(errno));
  }
  PkeyPtr key(is_private ? PEM_read_PrivateKey(file, nullptr, nullptr, nullptr)
                         : PEM_read_PUBKEY(file, nullptr, nullptr, nullptr));
  std::fclose(file);
  if (!key || EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519) {
    return Status::Invalid(path.string() + " is not a PEM Ed25519 " + what + " key");
  }
  return key;
}

std::string raw_public_key(EVP_PKEY* key) {
  std::string bytes(32, '\0');
  std::size_t length = bytes.size();
  if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(bytes.data()), &length) != 1) return "";
  bytes.resize(length);
  return to_hex(bytes);
}

Status write_file(const std::filesystem::path& path, const std::string& text) {
  const std::filesystem::path temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return Status::Invalid("cannot write " + temporary.string() + ": " + std::strerror(errno));
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) return Status::Invalid("cannot rename " + temporary.string() + " to " + path.string() + ": " + error.message());
  return Status::Ok();
}

}  // namespace

std::string head_line(const Head& head) {
  return std::to_string(head.wallet_id) + " " + std::to_string(head.version) + " " +
         (head.hash.empty() ? std::string("-") : to_hex(head.hash));
}

Result<Head> parse_head_line(std::string_view line) {
  const auto first = line.find(' ');
  const auto second = first == std::string_view::npos ? first : line.find(' ', first + 1);
  if (second == std::string_view::npos || line.find(' ', second + 1) != std::string_view::npos) {
    return Status::Invalid("expected \"<wallet id> <version> <hash>\"");
  }
  Head head;
  if (!parse_int64(line.substr(0, first), head.wallet_id) || head.wallet_id == 0) {
    return Status::Invalid("wallet id is not a positive integer");
  }
  if (!parse_int64(line.substr(first + 1, second - first - 1), head.version)) {
    return Status::Invalid("version is not a non-negative integer");
  }
  const std::string_view hash = line.substr(second + 1);
  if (head.version == 0) {
    if (hash != "-") return Status::Invalid("a wallet at version 0 has no hash (\"-\")");
    return head;
  }
  if (!from_hex(hash, head.hash) || head.hash.size() != 32) {
    return Status::Invalid("hash is not 64 lower-case hex digits");
  }
  return head;
}

nlohmann::json to_json(const Anchor& a) {
  nlohmann::json assets = nlohmann::json::object();
  for (const auto& [code, t] : a.assets) {
    assets[code] = {{"entries", t.entries}, {"user_balance", t.user_balance}, {"system_balance", t.system_balance}};
  }
  nlohmann::json doc = {{"format", a.audit ? kFormat : kFormatV1},
                        {"created_at", a.created_at},
                        {"database", a.database},
                        {"max_entry_id", a.max_entry_id},
                        {"snapshot", {{"xmin", a.snapshot_xmin}, {"xmax", a.snapshot_xmax}}},
                        {"wallets", a.wallets},
                        {"entries", a.entries},
                        {"assets", assets},
                        {"merkle_root", a.merkle_root}};
  // Format 1 documents (no audit) are reproduced byte for byte, so that
  // their signatures still verify.
  if (a.audit) {
    nlohmann::json stripes = nlohmann::json::array();
    for (const auto& h : a.audit->stripes) {
      stripes.push_back({{"stripe", h.stripe}, {"seq", h.seq}, {"hash", to_hex(h.hash)}});
    }
    doc["audit"] = {{"max_id", a.audit->max_id}, {"chained_from", a.audit->chained_from}, {"stripes", stripes}};
  }
  return doc;
}

std::string signed_message(const Anchor& anchor) { return to_json(anchor).dump(); }

nlohmann::json to_json_with_heads(const Anchor& anchor) {
  nlohmann::json doc = to_json(anchor);
  nlohmann::json heads = nlohmann::json::array();
  for (const auto& h : anchor.heads) heads.push_back(head_line(h));
  doc["heads"] = heads;
  if (anchor.signature) {
    doc["signature"] = {{"algorithm", "ed25519"},
                        {"public_key", anchor.signature->public_key},
                        {"value", anchor.signature->value}};
  }
  return doc;
}

Result<Anchor> parse_anchor(const std::string& text, const std::filesystem::path& directory) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return invalid("not a JSON object");
  Anchor a;
  std::string format;
  if (Status s = read_text(doc, "format", format); !s.ok()) return s;
  if (format != kFormat && format != kFormatV1) {
    return invalid("format \"" + format.substr(0, 60) + "\", expected \"" + std::string(kFormat) + "\" (or \"" +
                   std::string(kFormatV1) + "\")");
  }
  if (format == kFormat) {
    if (Status s = read_audit(doc, a.audit); !s.ok()) return s;
  } else if (doc.contains("audit")) {
    return invalid("a \"" + std::string(kFormatV1) + "\" anchor has no \"audit\" member");
  }
  auto snapshot = doc.find("snapshot");
  if (snapshot == doc.end() || !snapshot->is_object()) return invalid("\"snapshot\" must be an object");
  for (Status s : {read_text(doc, "created_at", a.created_at), read_text(doc, "database", a.database),
                   read_count(doc, "max_entry_id", a.max_entry_id), read_count(*snapshot, "xmin", a.snapshot_xmin),
                   read_count(*snapshot, "xmax", a.snapshot_xmax), read_count(doc, "wallets", a.wallets),
                   read_count(doc, "entries", a.entries), read_text(doc, "merkle_root", a.merkle_root),
                   read_assets(doc, a.assets), read_signature(doc, a.signature)}) {
    if (!s.ok()) return s;
  }
  std::string root;
  if (!from_hex(a.merkle_root, root) || root.size() != 32) return invalid("\"merkle_root\" must be 64 hex digits");
  if (a.snapshot_xmax < a.snapshot_xmin) return invalid("snapshot xmax is below its xmin");
  if (Status s = read_heads_member(doc, directory, a.heads); !s.ok()) return s;
  if (static_cast<int64_t>(a.heads.size()) != a.wallets) {
    return invalid("the heads hold " + std::to_string(a.heads.size()) + " wallets, the anchor says " +
                   std::to_string(a.wallets));
  }
  int64_t entries = 0;
  for (const auto& h : a.heads) entries += h.version;
  if (entries != a.entries) {
    return invalid("the heads' versions add up to " + std::to_string(entries) + " entries, the anchor says " +
                   std::to_string(a.entries));
  }
  if (to_hex(merkle_root(a.heads)) != a.merkle_root) {
    return invalid("the heads do not hash to the anchor's merkle_root (heads changed or from another anchor)");
  }
  return a;
}

Result<Anchor> read_anchor(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Invalid("cannot read digest anchor " + path.string() + ": " + std::strerror(errno));
  std::string text;
  char buffer[65536];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kAnchorBytesMax) return invalid("larger than " + std::to_string(kAnchorBytesMax) + " bytes");
  }
  if (in.bad()) return Status::Invalid("cannot read digest anchor " + path.string());
  return parse_anchor(text, path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path());
}

Status write_anchor(const Anchor& anchor, const std::filesystem::path& path) {
  const std::string heads_name = path.filename().string() + ".heads";
  std::string heads;
  for (const auto& h : anchor.heads) heads += head_line(h) + "\n";
  if (Status s = write_file(path.parent_path() / heads_name, heads); !s.ok()) return s;
  nlohmann::json doc = to_json(anchor);
  doc["heads"] = heads_name;
  if (anchor.signature) {
    doc["signature"] = {{"algorithm", "ed25519"},
                        {"public_key", anchor.signature->public_key},
                        {"value", anchor.signature->value}};
  }
  return write_file(path, doc.dump(2) + "\n");
}

Status sign_anchor(Anchor& anchor, const std::filesystem::path& key_path) {
  auto key = read_key(key_path, true);
  if (!key.ok()) return key.status();
  const std::string message = signed_message(anchor);
  MdCtxPtr context(EVP_MD_CTX_new());
  std::string signature(64, '\0');
  std::size_t length = signature.size();
  if (!context || EVP_DigestSignInit(context.get(), nullptr, nullptr, nullptr, key->get()) != 1 ||
      EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1) {
    return Status::Internal("OpenSSL could not sign the anchor with " + key_path.string());
  }
  signature.resize(length);
  anchor.signature = Signature{raw_public_key(key->get()), to_hex(signature)};
  return Status::Ok();
}

Status verify_signature(const Anchor& anchor, const std::filesystem::path& public_key_path) {
  auto key = read_key(public_key_path, false);
  if (!key.ok()) return key.status();
  if (!anchor.signature) return Status::Invalid("the digest anchor is not signed");
  if (raw_public_key(key->get()) != anchor.signature->public_key) {
    return Status::Invalid("the digest anchor is signed by another key than " + public_key_path.string());
  }
  std::string signature;
  from_hex(anchor.signature->value, signature);  // checked by parse_anchor
  const std::string message = signed_message(anchor);
  MdCtxPtr context(EVP_MD_CTX_new());
  if (!context || EVP_DigestVerifyInit(context.get(), nullptr, nullptr, nullptr, key->get()) != 1 ||
      EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                       reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1) {
    return Status::Invalid("the digest anchor's signature does not verify: the anchor was changed after signing");
  }
  return Status::Ok();
}

}  // namespace wallet::digest
