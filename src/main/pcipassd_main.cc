// pcipassd: the per-host agent's entry point. All logic lives in
// src/daemon; this only parses the flags and runs it.
#include <iostream>

#include "daemon/daemon.h"

int main(int argc, char** argv) {
  pcipass::daemon::DaemonOptions options;
  int early = pcipass::daemon::ParseDaemonArgs(argc, argv, &options, std::cout,
                                               std::cerr);
  if (early >= 0) return early;
  return pcipass::daemon::RunDaemon(options, std::cerr);
}
