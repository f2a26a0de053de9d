// What became of a request that moves money (move, post, void, reverse):
// the Ledger's typed answer, which walletctl and walletd only render.
//
// The one table in outcome.cpp gives each outcome its Status code; the
// table in core/domain/status.cpp gives each code its exit code and HTTP
// status. Nothing else maps outcomes to exit codes or HTTP statuses.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "core/domain/status.hpp"
#include "core/domain/types.hpp"

namespace wallet {

enum class Outcome {
  applied,             // a new transaction, posted
  held,                // a new transaction, pending: a hold, or a withdrawal waiting for settlement
  completed,           // post: a hold posted, all or part
  released,            // void: a hold released
  insufficient_funds,  // recorded as failed (so a replay gives the same answer); nothing moved
  rejected,            // a withdrawal the settlement command refused (voided); nothing moved
  refused,             // nothing recorded: status() says why (invalid, not found, conflict, unavailable)
};

class MovementOutcome {
 public:
  // Nothing was recorded; `failure` must not be ok.
  MovementOutcome(Status failure);  // NOLINT: implicit by design, as Result<T>
  // A new transaction (move, reverse): applied, held, insufficient_funds or rejected.
  static MovementOutcome created(Movement movement);
  // post: completed. void: released.
  static MovementOutcome completed(Movement movement);
  static MovementOutcome released(Movement movement);

  Outcome outcome() const { return outcome_; }
  // The request did what was asked (applied, held, completed, released).
  bool ok() const { return status_.ok(); }
  // A transaction stands for the request: everything but refused.
  bool recorded() const { return movement_.has_value(); }
  // Ok when ok(); otherwise the failure, with its one-line message.
  const Status& status() const { return status_; }
  // The key was used before for the same request: the original answer, nothing changed.
  bool replayed() const { return movement_ && movement_->replayed; }

  // Only when recorded().
  const Movement& movement() const {
    assert(recorded());
    return *movement_;
  }
  Movement& movement() {
    assert(recorded());
    return *movement_;
  }
  const Movement* operator->() const { return &movement(); }
  Movement* operator->() { return &movement(); }
  const Movement& operator*() const { return movement(); }

  // Process exit code and HTTP status of this outcome (a replay of a
  // creation answers 200, not 201).
  int exit_code() const;
  int http_status() const;
  // What a failure adds to the {"error": {...}} object when a transaction
  // was recorded: its id, key, status and replayed flag; null otherwise.
  // (When ok(), the answer is to_json(movement()).)
  nlohmann::json error_fields() const;

 private:
  MovementOutcome(Outcome outcome, Movement movement, Status status);

  Outcome outcome_;
  std::optional<Movement> movement_;
  Status status_;
};

}  // namespace wallet
