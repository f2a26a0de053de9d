#include "core/ledger/outcome.hpp"

#include "core/domain/kinds.hpp"

namespace wallet {

namespace {

struct OutcomeInfo {
  Outcome outcome;
  Code code;
  int http_status_ok;  // for outcomes that succeed: 201 Created or 200
};

// The one table of outcomes. Failures take their exit code and HTTP status
// from their Code (core/domain/status.cpp).
constexpr OutcomeInfo kOutcomes[] = {
    {Outcome::applied, Code::ok, 201},
    {Outcome::held, Code::ok, 201},
    {Outcome::completed, Code::ok, 200},
    {Outcome::released, Code::ok, 200},
    {Outcome::insufficient_funds, Code::insufficient_funds, 0},
    {Outcome::rejected, Code::conflict, 0},
    {Outcome::refused, Code::internal, 0},  // the code is the failure's own
};

const OutcomeInfo& info(Outcome outcome) {
  for (const auto& row : kOutcomes) {
    if (row.outcome == outcome) return row;
  }
  assert(false && "every Outcome has a row in kOutcomes");
  return kOutcomes[0];
}

bool is(const Movement& m, TransactionStatus status) { return m.status == status_name(status); }

}  // namespace

MovementOutcome::MovementOutcome(Status failure) : outcome_(Outcome::refused), status_(std::move(failure)) {
  assert(!status_.ok());
}

MovementOutcome::MovementOutcome(Outcome outcome, Movement movement, Status status)
    : outcome_(outcome), movement_(std::move(movement)), status_(std::move(status)) {
  assert(status_.code() == info(outcome_).code);
}

MovementOutcome MovementOutcome::created(Movement m) {
  if (is(m, TransactionStatus::failed)) {
    if (m.error_code == "insufficient_funds") {
      Status status = Status::Insufficient(m.error_message);
      return {Outcome::insufficient_funds, std::move(m), std::move(status)};
    }
    Status status = Status::Conflict(m.error_message.empty()
                                         ? "transaction " + std::to_string(m.transaction_id) + " failed"
                                         : m.error_message);
    return {Outcome::rejected, std::move(m), std::move(status)};
  }
  if (is(m, TransactionStatus::voided)) {
    Status status =
        Status::Conflict("withdrawal " + std::to_string(m.transaction_id) + " was rejected: " + m.error_message);
    return {Outcome::rejected, std::move(m), std::move(status)};
  }
  const Outcome outcome = is(m, TransactionStatus::pending) ? Outcome::held : Outcome::applied;
  return {outcome, std::move(m), Status::Ok()};
}

MovementOutcome MovementOutcome::completed(Movement m) { return {Outcome::completed, std::move(m), Status::Ok()}; }

MovementOutcome MovementOutcome::released(Movement m) { return {Outcome::released, std::move(m), Status::Ok()}; }

int MovementOutcome::exit_code() const { return wallet::exit_code(status_.code()); }

int MovementOutcome::http_status() const {
  if (!ok()) return wallet::http_status(status_.code());
  const int status = info(outcome_).http_status_ok;
  return status == 201 && replayed() ? 200 : status;
}

nlohmann::json MovementOutcome::error_fields() const {
  if (ok() || !movement_) return nullptr;
  return {{"transaction_id", movement_->transaction_id},
          {"idempotency_key", movement_->idempotency_key},
          {"status", movement_->status},
          {"replayed", movement_->replayed}};
}

}  // namespace wallet
