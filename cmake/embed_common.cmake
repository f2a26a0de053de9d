# Helpers of the embed_*.cmake scripts, which turn SQL files into C++ sources.

# raw_string(OUT_VAR PATH): PATH's content as a C++ raw string literal.
function(raw_string out_var path)
  file(READ "${path}" sql)
  string(FIND "${sql}" ")walletsql\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${path} contains the raw-string delimiter )walletsql\"")
  endif()
  set(${out_var} "R\"walletsql(${sql})walletsql\"" PARENT_SCOPE)
endfunction()

# write_if_changed(PATH CONTENT): writes CONTENT to PATH unless PATH holds it
# already, so that a generated source that did not change does not rebuild
# what depends on it.
function(write_if_changed path content)
  set(old "")
  if(EXISTS "${path}")
    file(READ "${path}" old)
  endif()
  if(NOT "${old}" STREQUAL "${content}")
    file(WRITE "${path}" "${content}")
  endif()
endfunction()
