// Status and Result: expected failures as values (leveldb style).
//
// Each Code maps to exactly one process exit code and one HTTP status, in
// the table in status.cpp; the CLI and the daemon both use it.
#pragma once

#include <cassert>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace wallet {

enum class Code {
  ok,
  internal,            // bug or unexpected database error      exit 1
  invalid,             // usage or invalid input                exit 2
  insufficient_funds,  // available balance too low             exit 3
  not_found,           // asset, wallet, transaction            exit 4
  conflict,            // key reuse, exists, bad state change   exit 5
  temporary,           // database unreachable, retries spent   exit 75
};

class Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status Internal(std::string m) { return {Code::internal, std::move(m)}; }
  static Status Invalid(std::string m) { return {Code::invalid, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::not_found, std::move(m)}; }
  static Status Conflict(std::string m) { return {Code::conflict, std::move(m)}; }
  static Status Insufficient(std::string m) { return {Code::insufficient_funds, std::move(m)}; }
  static Status Temporary(std::string m) { return {Code::temporary, std::move(m)}; }

  bool ok() const { return code_ == Code::ok; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Code code_ = Code::ok;
  std::string message_;
};

// Stable machine name of a code ("insufficient_funds"), used in JSON errors.
std::string_view code_name(Code code);
// Process exit code of a code (0, 1, 2, 3, 4, 5, 75).
int exit_code(Code code);
// HTTP status of a code (200, 500, 400, 422, 404, 409, 503).
int http_status(Code code);

// The first non-ok Status of `statuses` (all evaluated up front, so only for
// cheap checks without side effects), or Ok.
inline Status first_error(std::initializer_list<Status> statuses) {
  for (const auto& s : statuses) {
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// An input field named in a core message. Core messages never use one
// front end's syntax: walletctl shows the field as its flag (--timeout),
// walletd as its JSON field or header, through name_fields().
std::string field_ref(std::string_view field);
// `message` with each field_ref(f) replaced by name(f).
std::string name_fields(std::string_view message, const std::function<std::string(std::string_view)>& name);

// A value or a non-ok Status.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) { assert(!status_.ok()); }  // NOLINT

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() {
    assert(ok());
    return *value_;
  }
  const T& value() const {
    assert(ok());
    return *value_;
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace wallet
