// A whole pcipass config file (nova.conf-style INI): the INI syntax and
// ParseConfig ([pci] device_spec, alias, extra_tags, ...), as `config
// check` reads it. ([claims] and [host] are read from the parsed INI by the
// claims and binding layers; they are not in this target yet.)
#include <cstdint>

#include "fuzz/fuzz_util.h"
#include "select/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pcipass::ConfigLoad load =
      pcipass::ParseConfig(pcipass::fuzz::AsText(data, size), "fuzz.conf",
                           pcipass::fuzz::EmptyHost());
  for (const pcipass::Status& e : load.errors) {
    if (e.ok() || e.message().empty()) std::abort();
  }
  const pcipass::IniFile& ini = load.config.ini;
  for (const std::string& section : ini.Sections()) {
    for (const std::string& key : ini.Keys(section)) {
      if (ini.GetAll(section, key).empty()) std::abort();
      if (!ini.Get(section, key)) std::abort();
    }
  }
  return 0;
}
