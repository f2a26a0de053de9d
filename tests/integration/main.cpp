#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (std::getenv("WALLETCTL_DATABASE") == nullptr) {
    std::fprintf(stderr, "integration_tests: set WALLETCTL_DATABASE to the test database (scripts/test does)\n");
    return 1;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
