// walletctl: the operator's command-line tool. See walletctl(1).
#include <cstdlib>
#include <iostream>

#include "cli/app.hpp"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  return wallet::cli::run_cli(argc, argv, std::cout, std::cerr,
                              [](const char* name) { return std::getenv(name); });
}
