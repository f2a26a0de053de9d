# The libFuzzer targets: tests/fuzz/<name>_fuzz.cpp, seeds in
# tests/fuzz/corpus/<name>/. One list for the clang build (tests/fuzz) and
# the fuzz_<name> smoke tests of the main build (tests/CMakeLists.txt).
set(WALLET_FUZZ_TARGETS amount import_csv import_jsonl http_body config)
