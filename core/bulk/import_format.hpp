// The file formats of `walletctl import`: CSV (RFC 4180, with a header row)
// and JSON Lines (one object per line). Pure: no database, no files; every
// function takes text and returns a record or an Invalid status whose
// message says what is wrong with the line (the caller adds FILE:LINE).
//
// Records: `wallet` (user, asset, optional opening amount, memo, key) and
// the movements `deposit`, `withdraw` (user, asset, amount, kind, key,
// memo) and `transfer` (user or from, to, asset, amount, key, memo); every
// record may carry a `reference` (of its movement). Amounts
// stay decimal text here; they are parsed against the asset's scale later.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "core/domain/status.hpp"

namespace wallet {

enum class ImportFormat { csv, jsonl };

// Longest line read; a longer one is reported and skipped. Far above any
// valid record (ids 64, key 128, memo 500 bytes), and it bounds memory.
inline constexpr std::size_t kImportLineBytesMax = 64 * 1024;

// The format named by `flag` ("csv" or "jsonl"), else by the extension of
// `path` (.csv; .jsonl, .ndjson, .json). Invalid when neither says (stdin,
// "-", needs --format) or `flag` is something else.
Result<ImportFormat> import_format_of(const std::string& path, const std::string& flag);

enum class RecordType { wallet, deposit, withdraw, transfer };

struct ImportRecord {
  RecordType type = RecordType::deposit;
  std::string user;    // the wallet's owner, or the sender of a transfer
  std::string to;      // transfer only
  std::string asset;
  std::string amount;  // decimal text; empty: none (a wallet without opening balance)
  std::string kind;    // deposit and withdraw only; empty: the default kind
  std::string key;     // empty: derived from the line's content
  std::string memo;
  std::string reference;  // movements: the bank's or provider's id; empty: none
};

// RFC 4180 fields of one CSV line (without its line ending). A field may be
// quoted ("a,b"), with "" standing for one quote; a quote must open a field
// and the closing quote must end it. Fields cannot span lines (no field may
// contain a line break), so an unterminated quote is Invalid. `delimiter`
// separates fields (',' for import; statements may use ';' or a tab).
Result<std::vector<std::string>> split_csv_line(std::string_view line, char delimiter = ',');

// Which field of a CSV row holds which record field, from the header row.
struct CsvColumns {
  std::vector<std::string> names;  // in file order
};

// Reads the header row: known column names (type, user, from, to, asset,
// amount, kind, key, memo), each at most once, `type`, `asset` and `user`
// or `from` present. Invalid otherwise, naming the column.
Result<CsvColumns> parse_csv_header(std::string_view line);

// One data row: exactly as many fields as the header, then the same checks
// as every record (see check_record).
Result<ImportRecord> parse_csv_record(const CsvColumns& columns, std::string_view line);

// One JSON Lines line: an object whose members are the record's fields as
// strings (amount may also be a JSON integer; a fraction or exponent is
// refused: amounts are exact decimal text). Unknown members are Invalid.
Result<ImportRecord> parse_jsonl_record(std::string_view line);

// The rules every record obeys whatever its format: a known type, the
// fields that type needs, none it cannot use (`to` only for transfers,
// `kind` not for wallets or transfers, an amount for every movement), and
// text that is valid UTF-8.
Status check_record(const ImportRecord& record);

// True for a line with nothing but spaces, tabs or a carriage return.
bool is_blank_line(std::string_view line);

// Reads lines of at most kImportLineBytesMax bytes from a stream; memory
// stays bounded whatever the input. Strips "\n", "\r\n" and a UTF-8 byte
// order mark at the very start.
class LineReader {
 public:
  enum class Next { line, too_long, end };

  explicit LineReader(std::istream& in) : in_(in), buffer_(kBufferBytes) {}

  // The next line into `line`; too_long (and `line` empty) when it exceeded
  // the limit, whose rest is skipped; end at the end of the stream.
  Next next(std::string& line);
  // Number of the line last returned, counting from 1.
  int64_t line_number() const { return line_number_; }
  // Bytes consumed so far (for progress).
  int64_t bytes_read() const { return bytes_read_; }

 private:
  static constexpr std::size_t kBufferBytes = 64 * 1024;
  bool fill();

  std::istream& in_;
  std::vector<char> buffer_;
  std::size_t position_ = 0;  // next unread byte of buffer_
  std::size_t end_ = 0;       // bytes of buffer_ filled
  int64_t line_number_ = 0;
  int64_t bytes_read_ = 0;
};

}  // namespace wallet
