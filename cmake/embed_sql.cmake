# Writes OUT: a C++ source holding every sql/migrations/NNNN_name.sql file as
# a raw string, in version order. Run at build time (see CMakeLists.txt) so
# that editing a migration rebuilds the binaries.
include(${CMAKE_CURRENT_LIST_DIR}/write_if_changed.cmake)
file(GLOB files "${SQL_DIR}/[0-9][0-9][0-9][0-9]_*.sql")
list(SORT files)
set(body "")
foreach(f ${files})
  get_filename_component(base "${f}" NAME_WE)
  string(SUBSTRING "${base}" 0 4 version)
  string(SUBSTRING "${base}" 5 -1 name)
  math(EXPR version_number "${version}")
  file(READ "${f}" sql)
  string(APPEND body "    {${version_number}, \"${name}\", R\"walletsql(${sql})walletsql\"},\n")
endforeach()
set(content "// Generated from sql/migrations by cmake/embed_sql.cmake. Do not edit.\n#include \"core/store/migrations.hpp\"\n\nnamespace wallet {\n\nconst std::vector<Migration>& migrations() {\n  static const std::vector<Migration> kMigrations = {\n${body}  };\n  return kMigrations;\n}\n\n}  // namespace wallet\n")
write_if_changed("${OUT}" "${content}")
