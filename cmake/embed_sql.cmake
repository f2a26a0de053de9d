# Writes OUT: a C++ source holding the SQL that ships inside the binaries,
# each file as a raw string:
#   * every sql/migrations/NNNN_name.sql (MIGRATIONS_DIR), in version order;
#   * every sql/functions/*.sql (FUNCTIONS_DIR), in name order (= apply
#     order), with the SHA-256 of its content, by which `walletctl migrate`
#     knows whether the database holds this version of the file.
# Run at build time (see CMakeLists.txt) so that editing a file rebuilds the
# binaries.
include(${CMAKE_CURRENT_LIST_DIR}/embed_common.cmake)

file(GLOB migration_files "${MIGRATIONS_DIR}/[0-9][0-9][0-9][0-9]_*.sql")
list(SORT migration_files)
set(migrations "")
foreach(f ${migration_files})
  get_filename_component(base "${f}" NAME_WE)
  string(SUBSTRING "${base}" 0 4 version)
  string(SUBSTRING "${base}" 5 -1 name)
  math(EXPR version_number "${version}")
  raw_string(text "${f}")
  string(APPEND migrations "    {${version_number}, \"${name}\", ${text}},\n")
endforeach()

file(GLOB function_files "${FUNCTIONS_DIR}/*.sql")
list(SORT function_files)
set(functions "")
foreach(f ${function_files})
  get_filename_component(name "${f}" NAME)
  file(SHA256 "${f}" sha256)
  raw_string(text "${f}")
  string(APPEND functions "    {\"${name}\", \"${sha256}\", ${text}},\n")
endforeach()

set(content "// Generated from sql/migrations and sql/functions by cmake/embed_sql.cmake. Do not edit.
#include \"core/store/migrations.hpp\"

namespace wallet {

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> kMigrations = {
${migrations}  };
  return kMigrations;
}

const std::vector<FunctionFile>& function_files() {
  static const std::vector<FunctionFile> kFunctionFiles = {
${functions}  };
  return kFunctionFiles;
}

}  // namespace wallet
")
write_if_changed("${OUT}" "${content}")
