#include <doctest/doctest.h>

#include <string>

#include "core/domain/validate.hpp"

using namespace wallet;

TEST_CASE("user ids: the documented alphabet and bound") {
  CHECK(validate_user_id("user_001").ok());
  CHECK(validate_user_id("a1b2c3d4-0000-4000-8000-123456789abc").ok());
  CHECK(validate_user_id("mail:bob@example.com").ok());
  CHECK(validate_user_id(std::string(64, 'a')).ok());
  CHECK_FALSE(validate_user_id(std::string(65, 'a')).ok());
  CHECK_FALSE(validate_user_id("").ok());
  CHECK_FALSE(validate_user_id("bob smith").ok());
  CHECK_FALSE(validate_user_id("bob/x").ok());
  CHECK_FALSE(validate_user_id("b\xc3\xb6" "b").ok());
  CHECK(validate_user_id("@treasury").ok());
  CHECK_FALSE(validate_user_wallet_owner("@treasury").ok());
  CHECK(validate_user_wallet_owner("alice").ok());
}

TEST_CASE("asset codes: 2-12 of A-Z 0-9 _") {
  CHECK(validate_asset_code("GC").ok());
  CHECK(validate_asset_code("LOYALTY_PTS1").ok());
  CHECK_FALSE(validate_asset_code("G").ok());
  CHECK_FALSE(validate_asset_code("gc").ok());
  CHECK_FALSE(validate_asset_code("ABCDEFGHIJKLM").ok());
  CHECK_FALSE(validate_asset_code("G-C").ok());
}

TEST_CASE("idempotency keys and memos are bounded") {
  CHECK(validate_idempotency_key(std::string(128, 'k')).ok());
  CHECK_FALSE(validate_idempotency_key(std::string(129, 'k')).ok());
  CHECK_FALSE(validate_idempotency_key("has space").ok());
  CHECK_FALSE(validate_idempotency_key("").ok());
  CHECK(validate_memo(std::string(500, 'm')).ok());
  CHECK_FALSE(validate_memo(std::string(501, 'm')).ok());
  CHECK_FALSE(validate_memo("line\nbreak").ok());
  CHECK(validate_memo("caf\xc3\xa9 order #12").ok());
}

TEST_CASE("text fields refuse invalid UTF-8, C1 controls and bidi overrides") {
  CHECK(validate_memo("caf\xc3\xa9").ok());
  CHECK(validate_memo("\xe4\xbd\xa0\xe5\xa5\xbd").ok());         // 你好
  CHECK(validate_memo("\xf0\x9f\x92\xb0 bonus").ok());            // 💰
  CHECK_FALSE(validate_memo("caf\xe9").ok());                     // Latin-1, not UTF-8
  CHECK_FALSE(validate_memo("\xc0\xaf").ok());                    // overlong '/'
  CHECK_FALSE(validate_memo("\xed\xa0\x80").ok());                // surrogate
  CHECK_FALSE(validate_memo("\xf4\x90\x80\x80").ok());            // beyond U+10FFFF
  CHECK_FALSE(validate_memo("abc\xe2\x82").ok());                 // truncated
  CHECK_FALSE(validate_memo("\xc2\x9b" "2J").ok());               // C1 CSI
  CHECK_FALSE(validate_memo("\xe2\x80\xae" "evil").ok());         // right-to-left override
  CHECK_FALSE(validate_memo("\xe2\x81\xa6x").ok());               // isolate
  CHECK(validate_text(std::string(200, 'n'), "name", kAssetNameMax).ok());
  CHECK_FALSE(validate_text(std::string(201, 'n'), "name", kAssetNameMax).ok());
}
