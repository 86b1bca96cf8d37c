// pcipass: the command-line entry point. All logic lives in the libraries;
// this only wires stdout/stderr to the command table.
#include <iostream>

#include "cli/commands.h"

int main(int argc, char** argv) {
  return pcipass::cli::RunCli(argc, argv, std::cout, std::cerr);
}
