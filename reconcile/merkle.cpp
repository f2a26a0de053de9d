#include "reconcile/merkle.hpp"

#include <openssl/evp.h>

#include <cassert>
#include <stdexcept>

namespace wallet::digest {

Hash sha256(std::string_view bytes) {
  Hash out{};
  unsigned int length = 0;
  // EVP_Digest fails only when OpenSSL cannot allocate or has no SHA-256:
  // nothing a caller could handle.
  if (EVP_Digest(bytes.data(), bytes.size(), out.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length != out.size()) {
    throw std::runtime_error("OpenSSL SHA-256 failed");
  }
  return out;
}

namespace {

void append_be64(std::string& out, int64_t value) {
  const auto bits = static_cast<uint64_t>(value);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((bits >> shift) & 0xff));
}

Hash node_hash(const Hash& left, const Hash& right) {
  std::string bytes(1, '\x01');
  bytes.append(reinterpret_cast<const char*>(left.data()), left.size());
  bytes.append(reinterpret_cast<const char*>(right.data()), right.size());
  return sha256(bytes);
}

}  // namespace

Hash leaf_hash(const Head& head) {
  std::string bytes(1, '\x00');
  append_be64(bytes, head.wallet_id);
  append_be64(bytes, head.version);
  bytes += head.hash;
  return sha256(bytes);
}

Hash merkle_root(const std::vector<Hash>& leaves) {
  if (leaves.empty()) return sha256("");
  // Bottom up, pairing neighbours and carrying an odd last node up
  // unchanged: the same tree as RFC 6962's split at the largest power of two.
  std::vector<Hash> level = leaves;
  while (level.size() > 1) {
    std::vector<Hash> next;
    next.reserve((level.size() + 1) / 2);
    for (std::size_t i = 0; i + 1 < level.size(); i += 2) next.push_back(node_hash(level[i], level[i + 1]));
    if (level.size() % 2 == 1) next.push_back(level.back());
    level = std::move(next);
  }
  return level.front();
}

Hash merkle_root(const std::vector<Head>& heads) {
  std::vector<Hash> leaves;
  leaves.reserve(heads.size());
  for (const auto& head : heads) leaves.push_back(leaf_hash(head));
  return merkle_root(leaves);
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0x0f]);
  }
  return out;
}

std::string to_hex(const Hash& hash) {
  return to_hex(std::string_view(reinterpret_cast<const char*>(hash.data()), hash.size()));
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is refused: the format writes lower case only
}

}  // namespace

bool from_hex(std::string_view text, std::string& bytes) {
  if (text.size() % 2 != 0) return false;
  bytes.clear();
  bytes.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int high = hex_value(text[i]);
    const int low = hex_value(text[i + 1]);
    if (high < 0 || low < 0) return false;
    bytes.push_back(static_cast<char>(high * 16 + low));
  }
  return true;
}

}  // namespace wallet::digest
