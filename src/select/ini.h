// IniFile: an INI file read the way oslo.config reads nova.conf.
//
// Sections are "[name]"; entries are "key = value" or "key: value"; blank
// lines and lines whose first character is '#' or ';' are ignored; a line
// that starts with whitespace continues the previous entry's value (joined
// with "\n"), which lets a long JSON device_spec span lines. A key may occur
// many times in a section (multi-valued options such as device_spec and
// alias); every occurrence is kept, in file order, with its line number so
// that errors can say "nova.conf:12". Values are stripped, and one pair of
// matching surrounding quotes is removed, as oslo does.
//
// Each layer reads its own sections ([pci] here, [host] for binding, [claims]
// for the ledger) from the same IniFile.
#ifndef PCIPASS_SELECT_INI_H_
#define PCIPASS_SELECT_INI_H_

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pcipass {

struct IniEntry {
  std::string section;
  std::string key;
  std::string value;
  int line = 0;  // 1-based line of the key
};

class IniFile {
 public:
  IniFile() = default;

  // Parses |text|; |source_name| (usually the path) prefixes error messages
  // and Where(). Errors (InvalidArgument, "<source>:<line>: ..."): an entry
  // before any section header, a malformed section header, a line that is
  // neither a comment, a section nor "key = value", an empty key, a
  // continuation line with no entry before it.
  static Result<IniFile> Parse(std::string_view text, std::string source_name);
  // Reads and parses |path|. NotFound / PermissionDenied / IOError naming the
  // path if it cannot be read; otherwise as Parse.
  static Result<IniFile> Load(const std::filesystem::path& path);

  // The last value of |key| in |section| (oslo's rule for single-valued
  // options), or nullopt.
  std::optional<std::string> Get(std::string_view section,
                                 std::string_view key) const;
  // Every occurrence of |key| in |section|, in file order.
  std::vector<IniEntry> GetAll(std::string_view section,
                               std::string_view key) const;
  // Section names in order of first appearance (repeated headers merge).
  std::vector<std::string> Sections() const;
  // Distinct keys of |section| in order of first appearance.
  std::vector<std::string> Keys(std::string_view section) const;
  // All entries in file order.
  const std::vector<IniEntry>& entries() const { return entries_; }
  const std::string& source() const { return source_; }
  // "<source>:<line>".
  std::string Where(int line) const;

 private:
  std::string source_;
  std::vector<std::string> sections_;
  std::vector<IniEntry> entries_;
};

}  // namespace pcipass

#endif  // PCIPASS_SELECT_INI_H_
