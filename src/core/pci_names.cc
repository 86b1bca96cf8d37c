#include "core/pci_names.h"

#include <csetjmp>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

extern "C" {
#include <pci/pci.h>
}

namespace pcipass {

namespace {

// libpci reports a malformed pci.ids through access->error, which must not
// return (its default calls exit()). We jump back to the lookup instead;
// no C++ object with a destructor lives between setjmp and the libpci call.
thread_local std::jmp_buf* g_jump = nullptr;

// noreturn as a GNU attribute, which (unlike [[noreturn]]) is part of the
// function type clang checks against pci_access::error.
__attribute__((noreturn)) void OnError(char* /*msg*/, ...) {
  if (g_jump) std::longjmp(*g_jump, 1);
  std::abort();  // unreachable: every libpci call below sets g_jump
}
void OnQuiet(char* /*msg*/, ...) {}

struct ClassEntry {
  uint16_t code;  // base << 8 | sub; sub 0xff = base only
  const char* name;
};

// The pci.ids names of base classes and the subclasses pcipass meets most.
constexpr ClassEntry kBuiltin[] = {
    {0x0000, "Non-VGA unclassified device"},
    {0x0001, "VGA compatible unclassified device"},
    {0x00ff, "Unclassified device"},
    {0x0100, "SCSI storage controller"},
    {0x0101, "IDE interface"},
    {0x0104, "RAID bus controller"},
    {0x0106, "SATA controller"},
    {0x0107, "Serial Attached SCSI controller"},
    {0x0108, "Non-Volatile memory controller"},
    {0x01ff, "Mass storage controller"},
    {0x0200, "Ethernet controller"},
    {0x0207, "Infiniband controller"},
    {0x02ff, "Network controller"},
    {0x0300, "VGA compatible controller"},
    {0x0302, "3D controller"},
    {0x03ff, "Display controller"},
    {0x0401, "Multimedia audio controller"},
    {0x0403, "Audio device"},
    {0x04ff, "Multimedia controller"},
    {0x05ff, "Memory controller"},
    {0x0600, "Host bridge"},
    {0x0601, "ISA bridge"},
    {0x0604, "PCI bridge"},
    {0x06ff, "Bridge"},
    {0x07ff, "Communication controller"},
    {0x08ff, "Generic system peripheral"},
    {0x09ff, "Input device controller"},
    {0x0aff, "Docking station"},
    {0x0bff, "Processor"},
    {0x0c03, "USB controller"},
    {0x0c05, "SMBus"},
    {0x0cff, "Serial bus controller"},
    {0x0dff, "Wireless controller"},
    {0x0eff, "Intelligent controller"},
    {0x0fff, "Satellite communications controller"},
    {0x1000, "Network and computing encryption device"},
    {0x10ff, "Encryption controller"},
    {0x11ff, "Signal processing controller"},
    {0x1200, "Processing accelerators"},
    {0x12ff, "Processing accelerators"},
    {0x13ff, "Non-Essential Instrumentation"},
    {0xffff, "Unassigned class"},
};

}  // namespace

PciNames::PciNames(std::string path) : path_(std::move(path)) {}

PciNames::~PciNames() {
  if (access_) pci_cleanup(access_);
}

bool PciNames::EnsureLoaded() {
  if (state_ != 0) return state_ > 0;
  state_ = -1;
  access_ = pci_alloc();
  if (!access_) return false;
  access_->error = OnError;
  access_->warning = OnQuiet;
  access_->debug = OnQuiet;
  if (!path_.empty()) {
    pci_set_name_list_path(access_, strdup(path_.c_str()), 1);
  } else {
    path_ = access_->id_file_name ? access_->id_file_name : "";
  }
  std::jmp_buf jump;
  g_jump = &jump;
  if (setjmp(jump) == 0) {
    if (pci_load_name_list(access_)) state_ = 1;
  }
  g_jump = nullptr;
  return state_ > 0;
}

bool PciNames::available() { return EnsureLoaded(); }

std::string PciNames::Lookup(int flags, int a, int b) {
  if (!EnsureLoaded()) return "";
  char buf[256];
  const char* r = nullptr;
  std::jmp_buf jump;
  g_jump = &jump;
  if (setjmp(jump) == 0) {
    r = pci_lookup_name(access_, buf, sizeof(buf),
                        flags | PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB, a,
                        b);
  }
  g_jump = nullptr;
  return r ? std::string(r) : std::string();
}

std::string PciNames::Vendor(uint16_t vendor) {
  return Lookup(PCI_LOOKUP_VENDOR, vendor, 0);
}

std::string PciNames::Product(uint16_t vendor, uint16_t product) {
  return Lookup(PCI_LOOKUP_DEVICE, vendor, product);
}

std::string PciNames::Class(uint32_t class_code) {
  std::string name =
      Lookup(PCI_LOOKUP_CLASS, static_cast<int>((class_code >> 8) & 0xffff), 0);
  // An unknown subclass of a known base class comes back as
  // "Display controller [0380]"; keep the name only.
  if (name.size() > 7 && name.back() == ']' && name[name.size() - 6] == '[' &&
      name[name.size() - 7] == ' ') {
    name.resize(name.size() - 7);
  }
  if (!name.empty()) return name;
  return BuiltinClassName(class_code);
}

std::string PciNames::BuiltinClassName(uint32_t class_code) {
  uint16_t sub = (class_code >> 8) & 0xffff;
  uint16_t base = (sub & 0xff00) | 0xff;
  for (const ClassEntry& e : kBuiltin) {
    if (e.code == sub) return e.name;
  }
  for (const ClassEntry& e : kBuiltin) {
    if (e.code == base) return e.name;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "Class %04x", sub);
  return buf;
}

}  // namespace pcipass
