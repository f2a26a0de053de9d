// ISO 20022 camt.053 (BankToCustomerStatement, any version 001.02 to
// 001.13) read with libxml2's streaming xmlTextReader: one <Ntry> at a time
// is expanded into a small tree and turned into statement lines, so memory
// stays flat in the file's size.
//
// Per booked entry (Sts BOOK; pending and information-only entries are
// skipped): the amount with its Ccy, the sign from CdtDbtInd (DBIT: money
// out of the account, negative), the date from BookgDt (else ValDt; a
// date-time without an offset is UTC). A reversal (RvslInd true) keeps
// the direction CdtDbtInd gives it: the reversal of a payout is a credit.
// An entry with several transaction details (TxDtls) that all carry an
// amount becomes one line per TxDtls (their signed sum must be the entry's
// amount), each with its own reference; otherwise the entry is one line (a
// batch booking whose details are not itemised is matched as a batch).
// References: EndToEndId (unless NOTPROVIDED), else InstrId, TxId,
// AcctSvcrRef; for an entry, its AcctSvcrRef, else NtryRef, else the
// batch's PmtInfId or MsgId. Line numbers are those of <Ntry> or <TxDtls>.
#pragma once

#include <string>

#include "reconcile/statement_format.hpp"

namespace wallet {

// Reads the camt.053 file at `path`. Invalid, naming FILE:LINE, for XML
// that is not well-formed (truncated, wrong encoding), a document that is
// not camt.053, or an entry without a valid amount, direction or date.
Status read_camt053(const std::string& path, int scale, const StatementSink& sink);

}  // namespace wallet
