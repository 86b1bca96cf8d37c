// What QEMU sends on a QMP socket: each input line is decoded as one
// message (greeting, return, error, event), and error replies are turned
// into the Status pcipass reports. Deep JSON nesting is bounded by the
// decoder's own depth limit (branch confine), not here.
#include <cstdint>

#include "fuzz/fuzz_util.h"
#include "hv/qmp.h"

namespace qmp = pcipass::hv::qmp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (const std::string& line :
       pcipass::fuzz::Split(pcipass::fuzz::AsText(data, size), '\n')) {
    pcipass::Result<qmp::Message> m = qmp::Decode(line);
    if (!m.ok()) {
      if (m.status().message().empty()) std::abort();
      continue;
    }
    if (m->kind == qmp::Message::Kind::kError) {
      pcipass::Status s = qmp::ErrorStatus("device_add", *m);
      if (s.ok()) std::abort();
    }
  }
  return 0;
}
