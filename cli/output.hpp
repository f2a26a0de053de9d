// Rendering of command results: a human table on a terminal, or machine
// output (-o json|jsonl|csv) on stdout. Errors go to stderr as one line.
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/domain/status.hpp"

namespace wallet::cli {

enum class Format { table, json, jsonl, csv };

struct Output {
  nlohmann::json document;           // -o json prints this
  std::vector<nlohmann::json> rows;  // jsonl, csv and table print these
  std::vector<std::string> columns;  // keys of rows shown by table and csv
  bool single = false;               // table: one object as "key: value" lines
  std::vector<std::string> notes;    // table only: lines printed after the rows
  int exit_code = 0;                 // findings (reconcile, retry) exit non-zero with output
  bool raw_json = false;             // a file format (a digest anchor): document as JSON in every format
};

// An Output of one object shown with the given columns.
Output single_output(nlohmann::json object, std::vector<std::string> columns);
// An Output of a list; `document` defaults to the list itself.
Output list_output(std::vector<nlohmann::json> rows, std::vector<std::string> columns,
                   nlohmann::json document = nullptr);

void render(const Output& output, Format format, std::ostream& out);

// Prints an error: one line on stderr; with json/jsonl also {"error": …} on stdout.
void render_error(const Status& status, Format format, const nlohmann::json& extra,
                  std::ostream& out, std::ostream& err);

// CSV field quoting (RFC 4180). Exposed for unit tests.
std::string csv_field(const std::string& text);

}  // namespace wallet::cli
