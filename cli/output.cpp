#include "cli/output.hpp"

#include "cli/options.hpp"

#include <algorithm>
#include <ostream>

namespace wallet::cli {

namespace {

std::string cell(const nlohmann::json& value) {
  if (value.is_null()) return "-";
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

std::string cell_of(const nlohmann::json& row, const std::string& column) {
  return row.contains(column) ? cell(row.at(column)) : "";
}

void render_table(const Output& output, std::ostream& out) {
  if (output.single && !output.rows.empty()) {
    std::size_t width = 0;
    for (const auto& c : output.columns) width = std::max(width, c.size());
    for (const auto& c : output.columns) {
      out << c << ':' << std::string(width - c.size() + 1, ' ') << cell_of(output.rows[0], c) << '\n';
    }
  } else if (!output.rows.empty()) {
    std::vector<std::size_t> widths;
    for (const auto& c : output.columns) widths.push_back(c.size());
    for (const auto& row : output.rows) {
      for (std::size_t i = 0; i < output.columns.size(); ++i) {
        widths[i] = std::max(widths[i], cell_of(row, output.columns[i]).size());
      }
    }
    auto line = [&](auto text_of) {
      std::string text;
      for (std::size_t i = 0; i < output.columns.size(); ++i) {
        std::string value = text_of(i);
        text += value;
        if (i + 1 < output.columns.size()) text += std::string(widths[i] - value.size() + 2, ' ');
      }
      out << text << '\n';
    };
    std::vector<std::string> upper;
    for (auto c : output.columns) {
      std::transform(c.begin(), c.end(), c.begin(), [](unsigned char ch) { return std::toupper(ch); });
      upper.push_back(c);
    }
    line([&](std::size_t i) { return upper[i]; });
    for (const auto& row : output.rows) line([&](std::size_t i) { return cell_of(row, output.columns[i]); });
  } else {
    out << "(none)\n";
  }
  for (const auto& note : output.notes) out << note << '\n';
}

}  // namespace

Output single_output(nlohmann::json object, std::vector<std::string> columns) {
  Output output;
  output.document = object;
  output.rows.push_back(std::move(object));
  output.columns = std::move(columns);
  output.single = true;
  return output;
}

Output list_output(std::vector<nlohmann::json> rows, std::vector<std::string> columns,
                   nlohmann::json document) {
  Output output;
  if (document.is_null()) {
    document = nlohmann::json::array();
    for (const auto& row : rows) document.push_back(row);
  }
  output.document = std::move(document);
  output.rows = std::move(rows);
  output.columns = std::move(columns);
  return output;
}

std::string csv_field(const std::string& input) {
  // A cell starting with = + - @ may run as a formula in a spreadsheet.
  // Ids and amounts ("@treasury", "-10.50") are only letters, digits and
  // . _ : @ - and run nothing; anything else gets a leading quote.
  std::string text = input;
  static const char* kPlain = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:@-";
  if (!text.empty() && std::string("=+-@").find(text[0]) != std::string::npos &&
      text.find_first_not_of(kPlain) != std::string::npos) {
    text.insert(text.begin(), '\'');
  }
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

void render(const Output& output, Format format, std::ostream& out) {
  if (output.raw_json) format = Format::json;
  switch (format) {
    case Format::json:
      out << output.document.dump(2) << '\n';
      break;
    case Format::jsonl:
      for (const auto& row : output.rows) out << row.dump() << '\n';
      break;
    case Format::csv: {
      std::string header;
      for (std::size_t i = 0; i < output.columns.size(); ++i) {
        header += (i ? "," : "") + csv_field(output.columns[i]);
      }
      out << header << '\n';
      for (const auto& row : output.rows) {
        std::string line;
        for (std::size_t i = 0; i < output.columns.size(); ++i) {
          const auto& c = output.columns[i];
          line += (i ? "," : "") + csv_field(row.contains(c) && row.at(c).is_null() ? "" : cell_of(row, c));
        }
        out << line << '\n';
      }
      break;
    }
    case Format::table:
      render_table(output, out);
      break;
  }
}

void render_error(const Status& status, Format format, const nlohmann::json& extra,
                  std::ostream& out, std::ostream& err) {
  // Core messages name input fields neutrally; walletctl names them by flag.
  const std::string message = name_fields(status.message(), flag_of_field);
  err << "walletctl: " << message << '\n';
  if (format == Format::json || format == Format::jsonl) {
    nlohmann::json document = {{"error", {{"code", std::string(code_name(status.code()))},
                                          {"message", message}}}};
    if (extra.is_object()) document["error"].update(extra);
    out << (format == Format::json ? document.dump(2) : document.dump()) << '\n';
  }
}

}  // namespace wallet::cli
