#include "reconcile/camt053.hpp"

#include <libxml/xmlreader.h>

#include <memory>
#include <string_view>
#include <vector>

#include "core/domain/validate.hpp"

namespace wallet {

namespace {

constexpr std::string_view kNamespacePrefix = "urn:iso:std:iso:20022:tech:xsd:camt.053.";
// Most transaction details one entry may itemise (a batch of payouts).
constexpr std::size_t kDetailsPerEntryMax = 1'000'000;

std::string_view name_of(const xmlNode* node) {
  return node->name != nullptr ? std::string_view(reinterpret_cast<const char*>(node->name)) : std::string_view{};
}

const xmlNode* child(const xmlNode* node, std::string_view name) {
  if (node == nullptr) return nullptr;
  for (const xmlNode* c = node->children; c != nullptr; c = c->next) {
    if (c->type == XML_ELEMENT_NODE && name_of(c) == name) return c;
  }
  return nullptr;
}

// The element at the end of a path of child names, or nullptr.
const xmlNode* find(const xmlNode* node, std::initializer_list<std::string_view> path) {
  for (std::string_view name : path) node = child(node, name);
  return node;
}

std::string text_of(const xmlNode* node) {
  if (node == nullptr) return {};
  std::unique_ptr<xmlChar, decltype(xmlFree)> content(xmlNodeGetContent(node), xmlFree);
  if (!content) return {};
  std::string_view text(reinterpret_cast<const char*>(content.get()));
  while (!text.empty() && (text.front() == ' ' || text.front() == '\n' || text.front() == '\t' || text.front() == '\r')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

std::string attribute(const xmlNode* node, const char* name) {
  if (node == nullptr) return {};
  std::unique_ptr<xmlChar, decltype(xmlFree)> value(xmlGetProp(node, reinterpret_cast<const xmlChar*>(name)),
                                                     xmlFree);
  return value ? std::string(reinterpret_cast<const char*>(value.get())) : std::string();
}

int64_t line_of(const xmlNode* node) { return static_cast<int64_t>(xmlGetLineNo(node)); }

// The first non-empty text among these paths under `node`.
std::string first_text(const xmlNode* node, std::initializer_list<std::initializer_list<std::string_view>> paths) {
  for (const auto& path : paths) {
    std::string text = text_of(find(node, path));
    if (!text.empty() && text != "NOTPROVIDED") return text;
  }
  return {};
}

struct Amount {
  int64_t signed_minor = 0;
  std::string currency;
};

// <Amt Ccy="EUR">12.50</Amt> with a CdtDbtInd beside it.
Result<Amount> amount_of(const xmlNode* amount_node, const std::string& direction, int scale) {
  if (amount_node == nullptr) return Status::Invalid("entry without an amount (Amt)");
  const std::string text = text_of(amount_node);
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    return Status::Invalid("amount \"" + excerpt(text, 40) + "\" must be unsigned (CdtDbtInd gives the direction)");
  }
  static const StatementProfile kPlain;
  auto minor = parse_statement_amount(text, scale, kPlain);
  if (!minor.ok()) return minor.status();
  if (direction != "DBIT" && direction != "CRDT") {
    return Status::Invalid("CdtDbtInd \"" + excerpt(direction, 20) + "\": expected CRDT or DBIT");
  }
  return Amount{direction == "DBIT" ? -*minor : *minor, attribute(amount_node, "Ccy")};
}

Result<StatementDate> date_of(const xmlNode* entry) {
  for (const char* element : {"BookgDt", "ValDt"}) {
    const xmlNode* date = child(entry, element);
    if (date == nullptr) continue;
    if (std::string text = text_of(child(date, "Dt")); !text.empty()) return parse_statement_date(text, "");
    if (std::string text = text_of(child(date, "DtTm")); !text.empty()) {
      // ISODateTime may omit the offset: UTC then.
      const bool zoned = text.back() == 'Z' || (text.size() > 19 && (text[text.size() - 6] == '+' ||
                                                                     text[text.size() - 6] == '-'));
      auto parsed = parse_statement_date(zoned ? text : text + "Z", "");
      if (!parsed.ok()) return parsed.status();
      parsed->whole_day = false;
      return parsed;
    }
  }
  return Status::Invalid("entry without a booking or value date (BookgDt, ValDt)");
}

class EntryReader {
 public:
  EntryReader(int scale, const std::string& account_currency, const StatementSink& sink)
      : scale_(scale), account_currency_(account_currency), sink_(sink) {}

  // Turns one expanded <Ntry> into lines; Invalid with the line number
  // ("LINE: reason"), or the sink's own failure marked with a leading '@'.
  Status entry(const xmlNode* ntry) {
    error_line_ = line_of(ntry);
    Status s = lines_of(ntry);
    if (s.ok() || s.message().rfind("@", 0) == 0) return s;
    return Status::Invalid(std::to_string(error_line_) + ": " + s.message());
  }

 private:
  Status lines_of(const xmlNode* ntry) {
    std::string status = first_text(ntry, {{"Sts", "Cd"}, {"Sts"}});
    if (!status.empty() && status != "BOOK") return Status::Ok();  // pending (PDNG) or information (INFO)
    const std::string direction = text_of(child(ntry, "CdtDbtInd"));
    auto amount = amount_of(child(ntry, "Amt"), direction, scale_);
    if (!amount.ok()) return amount.status();
    auto date = date_of(ntry);
    if (!date.ok()) return date.status();
    std::vector<const xmlNode*> details;
    const xmlNode* batch = nullptr;
    for (const xmlNode* d = ntry->children; d != nullptr; d = d->next) {
      if (d->type != XML_ELEMENT_NODE || name_of(d) != "NtryDtls") continue;
      if (batch == nullptr) batch = child(d, "Btch");
      for (const xmlNode* t = d->children; t != nullptr; t = t->next) {
        if (t->type == XML_ELEMENT_NODE && name_of(t) == "TxDtls") details.push_back(t);
        if (details.size() > kDetailsPerEntryMax) return Status::Invalid("too many transaction details in one entry");
      }
    }
    const std::string entry_description = text_of(child(ntry, "AddtlNtryInf"));
    bool itemised = details.size() > 1;
    for (const xmlNode* t : details) {
      if (find(t, {"Amt"}) == nullptr && find(t, {"AmtDtls", "TxAmt", "Amt"}) == nullptr) itemised = false;
    }
    if (itemised) return itemised_lines(details, *amount, *date, entry_description);
    StatementLine line;
    line.line = line_of(ntry);
    line.date = *date;
    line.amount = amount->signed_minor;
    line.currency = amount->currency.empty() ? account_currency_ : amount->currency;
    line.reference = first_text(ntry, {{"AcctSvcrRef"}, {"NtryRef"}});
    if (details.size() == 1) {
      const std::string detail_reference = reference_of(details[0]);
      if (!detail_reference.empty()) line.reference = detail_reference;
    }
    if (line.reference.empty() && batch != nullptr) line.reference = first_text(batch, {{"PmtInfId"}, {"MsgId"}});
    line.description = entry_description;
    if (line.description.empty() && details.size() == 1) line.description = description_of(details[0]);
    return emit(line);
  }

  Status itemised_lines(const std::vector<const xmlNode*>& details, const Amount& entry, const StatementDate& date,
                        const std::string& entry_description) {
    __int128 sum = 0;
    std::vector<StatementLine> lines;
    for (const xmlNode* t : details) {
      const xmlNode* amount_node = find(t, {"AmtDtls", "TxAmt", "Amt"});
      if (amount_node == nullptr) amount_node = find(t, {"Amt"});
      std::string direction = text_of(child(t, "CdtDbtInd"));
      if (direction.empty()) direction = entry.signed_minor < 0 ? "DBIT" : "CRDT";
      error_line_ = line_of(t);
      auto amount = amount_of(amount_node, direction, scale_);
      if (!amount.ok()) return amount.status();
      sum += amount->signed_minor;
      StatementLine line;
      line.line = line_of(t);
      line.date = date;
      line.amount = amount->signed_minor;
      line.currency = !amount->currency.empty() ? amount->currency
                                                 : !entry.currency.empty() ? entry.currency : account_currency_;
      line.reference = reference_of(t);
      line.description = description_of(t);
      if (line.description.empty()) line.description = entry_description;
      lines.push_back(std::move(line));
    }
    error_line_ = line_of(details.front()->parent->parent);
    if (sum != entry.signed_minor) {
      return Status::Invalid("the entry's amount is not the sum of its " + std::to_string(details.size()) +
                             " transaction details");
    }
    for (const auto& line : lines) {
      if (Status s = emit(line); !s.ok()) return s;
    }
    return Status::Ok();
  }

  static std::string reference_of(const xmlNode* detail) {
    return first_text(detail, {{"Refs", "EndToEndId"}, {"Refs", "InstrId"}, {"Refs", "TxId"}, {"Refs", "AcctSvcrRef"}});
  }

  static std::string description_of(const xmlNode* detail) {
    return first_text(detail, {{"RmtInf", "Ustrd"}, {"AddtlTxInf"}});
  }

  Status emit(StatementLine line) {
    error_line_ = line.line;
    if (line.reference.size() > kStatementReferenceMax) {
      return Status::Invalid("reference longer than " + std::to_string(kStatementReferenceMax) + " bytes");
    }
    if (line.currency.size() > kStatementCurrencyMax) {
      return Status::Invalid("currency \"" + excerpt(line.currency, 20) + "\" is too long");
    }
    line.description = excerpt(line.description, kStatementDescriptionMax);
    Status s = sink_(line);
    // A failure of the sink is not the file's: mark it so entry() leaves it be.
    if (!s.ok()) return Status(s.code(), "@" + s.message());
    return Status::Ok();
  }

  int scale_;
  int64_t error_line_ = 0;  // the element an error is about
  const std::string& account_currency_;
  const StatementSink& sink_;
};

// The first error libxml2 reported, with its line.
struct ErrorCapture {
  bool set = false;
  int line = 0;
  std::string message;
};

void capture_error(void* context, xmlErrorPtr error) {
  auto* capture = static_cast<ErrorCapture*>(context);
  if (capture->set || error == nullptr || error->level < XML_ERR_ERROR) return;
  capture->set = true;
  capture->line = error->line;
  std::string message = error->message != nullptr ? error->message : "malformed XML";
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  capture->message = excerpt(message, 200);
}

}  // namespace

Status read_camt053(const std::string& path, int scale, const StatementSink& sink) {
  // No network, no external entities or DTDs: a statement is data.
  std::unique_ptr<xmlTextReader, decltype(&xmlFreeTextReader)> reader(
      xmlReaderForFile(path.c_str(), nullptr, XML_PARSE_NONET | XML_PARSE_BIG_LINES | XML_PARSE_NOCDATA),
      &xmlFreeTextReader);
  if (!reader) return Status::Invalid("cannot read statement file " + excerpt(path, 200));
  ErrorCapture errors;
  xmlTextReaderSetStructuredErrorHandler(reader.get(), capture_error, &errors);
  const auto at = [&](int64_t line, const std::string& message) {
    return Status::Invalid(path + ":" + std::to_string(line) + ": " + message);
  };
  std::vector<std::string> path_names;  // element names from the root to the current node
  std::string account_currency;
  bool root_checked = false;
  int result = xmlTextReaderRead(reader.get());
  while (result == 1) {
    if (xmlTextReaderNodeType(reader.get()) != XML_READER_TYPE_ELEMENT) {
      result = xmlTextReaderRead(reader.get());
      continue;
    }
    const int depth = xmlTextReaderDepth(reader.get());
    const char* local = reinterpret_cast<const char*>(xmlTextReaderConstLocalName(reader.get()));
    const std::string name = local != nullptr ? local : "";
    path_names.resize(static_cast<std::size_t>(depth));
    path_names.push_back(name);
    const int64_t line = xmlTextReaderGetParserLineNumber(reader.get());
    if (!root_checked) {
      const char* uri = reinterpret_cast<const char*>(xmlTextReaderConstNamespaceUri(reader.get()));
      if (name != "Document" || uri == nullptr || std::string_view(uri).rfind(kNamespacePrefix, 0) != 0) {
        return at(line, "not an ISO 20022 camt.053 statement (root element <" + excerpt(name, 40) +
                            "> in namespace \"" + excerpt(uri != nullptr ? uri : "", 80) + "\")");
      }
      root_checked = true;
    }
    const std::size_t n = path_names.size();
    if (n >= 3 && name == "Ccy" && path_names[n - 2] == "Acct" && path_names[n - 3] == "Stmt") {
      xmlChar* text = xmlTextReaderReadString(reader.get());
      account_currency = text != nullptr ? reinterpret_cast<const char*>(text) : "";
      xmlFree(text);
    }
    if (name == "Stmt" && depth == 2) account_currency.clear();
    if (n >= 2 && name == "Ntry" && path_names[n - 2] == "Stmt") {
      const xmlNode* ntry = xmlTextReaderExpand(reader.get());
      if (ntry == nullptr) break;  // malformed inside the entry: reported below
      EntryReader entries(scale, account_currency, sink);
      Status s = entries.entry(ntry);
      if (!s.ok()) {
        if (s.message().rfind("@", 0) == 0) return Status(s.code(), s.message().substr(1));
        return Status::Invalid(path + ":" + s.message());
      }
      result = xmlTextReaderNext(reader.get());
      continue;
    }
    result = xmlTextReaderRead(reader.get());
  }
  if (result < 0 || errors.set) {
    const int64_t line = errors.set ? errors.line : xmlTextReaderGetParserLineNumber(reader.get());
    return at(line, "malformed XML: " + (errors.set ? errors.message : std::string("unexpected end of file")));
  }
  if (!root_checked) return at(1, "empty file: expected a camt.053 XML document");
  return Status::Ok();
}

}  // namespace wallet
