# Writes OUT: a C++ source holding every DIR/*.sql file as a named statement
# (sql::Statement: the file's base name and its text), in name order, as the
# array kStatements of NAMESPACE (declared in INCLUDE). A line `\ir FILE`
# (psql's include, relative to the file) is replaced by FILE's text, so that
# statements can share a fragment and still run in psql as they are. Run at
# build time (see CMakeLists.txt) so that editing a statement rebuilds the
# binaries.
include(${CMAKE_CURRENT_LIST_DIR}/embed_common.cmake)
file(GLOB files "${DIR}/*.sql")
list(SORT files)
set(body "")
foreach(f ${files})
  get_filename_component(name "${f}" NAME_WE)
  get_filename_component(here "${f}" DIRECTORY)
  raw_string(sql "${f}")
  while(sql MATCHES "\\\\ir ([^\n]+)")
    set(included_path "${CMAKE_MATCH_1}")
    raw_string(unused "${here}/${included_path}")  # refuses a fragment holding the delimiter
    file(READ "${here}/${included_path}" included)
    string(REPLACE "\\ir ${included_path}" "${included}" sql "${sql}")
  endwhile()
  string(APPEND body "    {\"${name}\", ${sql}},\n")
endforeach()
set(content "// Generated from ${DIR} by cmake/embed_statements.cmake. Do not edit.\n#include \"${INCLUDE}\"\n\nnamespace ${NAMESPACE} {\n\nconst sql::Statement kStatements[] = {\n${body}};\nconst std::size_t kStatementCount = sizeof kStatements / sizeof kStatements[0];\n\n}  // namespace ${NAMESPACE}\n")
write_if_changed("${OUT}" "${content}")
