// PciNames: vendor, product and class names from the pci.ids database.
//
// Backed by libpci's name lookup (the same database and code lspci uses),
// loaded lazily on the first lookup. A missing or unreadable database is
// not an error: lookups return "" (vendor/product) or a name from a small
// built-in table of base classes and common subclasses, and available()
// says false so callers can mention it once. libpci's udev hwdb and DNS
// lookups are disabled: names come from the file only, so results do not
// depend on the machine running the tests.
#ifndef PCIPASS_CORE_PCI_NAMES_H_
#define PCIPASS_CORE_PCI_NAMES_H_

#include <cstdint>
#include <memory>
#include <string>

struct pci_access;  // libpci

namespace pcipass {

class PciNames {
 public:
  // |path| = "" uses libpci's default (/usr/share/misc/pci.ids on Debian).
  explicit PciNames(std::string path = "");
  ~PciNames();
  PciNames(const PciNames&) = delete;
  PciNames& operator=(const PciNames&) = delete;

  // False if the database could not be opened or parsed (after the first
  // lookup attempt; before, it tries to load it).
  bool available();
  const std::string& path() const { return path_; }

  // "" when unknown.
  std::string Vendor(uint16_t vendor);
  std::string Product(uint16_t vendor, uint16_t product);
  // Subclass name for the 24-bit class code ("Ethernet controller"); falls
  // back to the base class name, then to the built-in table; never empty
  // ("Unclassified device" at worst... or "Class xxxx").
  std::string Class(uint32_t class_code);

  // The built-in table alone (for tests and for a missing database).
  static std::string BuiltinClassName(uint32_t class_code);

 private:
  bool EnsureLoaded();
  std::string Lookup(int flags, int a, int b);

  std::string path_;
  ::pci_access* access_ = nullptr;
  int state_ = 0;  // 0 not tried, 1 loaded, -1 failed
};

}  // namespace pcipass

#endif  // PCIPASS_CORE_PCI_NAMES_H_
