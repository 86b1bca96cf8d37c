// Helpers shared by the libFuzzer targets in fuzz/ (see docs/fuzzing.md).
#ifndef PCIPASS_FUZZ_FUZZ_UTIL_H_
#define PCIPASS_FUZZ_FUZZ_UTIL_H_

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/host_root.h"

namespace pcipass::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits |text| at |sep|; always at least one (maybe empty) part.
inline std::vector<std::string> Split(std::string_view text, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t at = text.find(sep, start);
    parts.emplace_back(text.substr(start, at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

// An empty host tree (a temp directory made once per process): parsers
// that look at the host (devname, PF addresses) find nothing there, and
// nothing outside it is ever read.
inline const HostRoot& EmptyHost() {
  static const HostRoot* host = [] {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "pcipass-fuzz-XXXXXX")
            .string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    return new HostRoot(tmpl);
  }();
  return *host;
}

}  // namespace pcipass::fuzz

#endif  // PCIPASS_FUZZ_FUZZ_UTIL_H_
