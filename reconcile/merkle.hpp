// The Merkle tree of a digest anchor (pure: no database).
//
// The tree is RFC 6962's (Certificate Transparency): a leaf is
// SHA-256(0x00 || data), an inner node SHA-256(0x01 || left || right), the
// tree over n > 1 leaves splits at the largest power of two below n, and the
// root of no leaves is SHA-256 of nothing. Leaves and nodes are hashed with
// different prefixes, so no inner node can pass for a leaf.
//
// A digest's leaves are the wallets' chain heads in wallet id order; a
// leaf's data is its wallet id and version as 8-byte big-endian integers
// followed by the hash of the wallet's last entry (empty for a wallet
// without entries).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wallet::digest {

using Hash = std::array<unsigned char, 32>;

// SHA-256 of `bytes`.
Hash sha256(std::string_view bytes);

// One wallet's chain head: its version (0 for a wallet without entries)
// and the hash of the entry at that version (32 raw bytes, or empty).
struct Head {
  int64_t wallet_id = 0;
  int64_t version = 0;
  std::string hash;

  bool operator==(const Head&) const = default;
};

// The leaf hash of one head: SHA-256(0x00 || be64 id || be64 version || hash).
Hash leaf_hash(const Head& head);

// The root over `leaves` in order (RFC 6962 §2.1).
Hash merkle_root(const std::vector<Hash>& leaves);

// The root over the heads' leaf hashes, in the order given.
Hash merkle_root(const std::vector<Head>& heads);

// Lower-case hexadecimal text of bytes, and back. from_hex returns false
// (and leaves `bytes` unspecified) on an odd length or a non-hex character.
std::string to_hex(std::string_view bytes);
std::string to_hex(const Hash& hash);
bool from_hex(std::string_view text, std::string& bytes);

}  // namespace wallet::digest
