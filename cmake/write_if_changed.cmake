# write_if_changed(PATH CONTENT): writes CONTENT to PATH unless PATH holds it
# already, so that a generated source that did not change does not rebuild
# what depends on it. Shared by the embed_*.cmake scripts.
function(write_if_changed path content)
  set(old "")
  if(EXISTS "${path}")
    file(READ "${path}" old)
  endif()
  if(NOT "${old}" STREQUAL "${content}")
    file(WRITE "${path}" "${content}")
  endif()
endfunction()
