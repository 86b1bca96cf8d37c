#include "select/ini.h"

#include <algorithm>
#include <cerrno>

#include "core/bounded_input.h"
#include "core/sysfs.h"
#include "core/values.h"

namespace pcipass {

namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view Strip(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string Unquote(std::string_view v) {
  if (v.size() >= 2 && v.front() == v.back() &&
      (v.front() == '"' || v.front() == '\'')) {
    v = v.substr(1, v.size() - 2);
  }
  return std::string(v);
}

}  // namespace

Result<IniFile> IniFile::Parse(std::string_view text, std::string source_name) {
  IniFile ini;
  ini.source_ = std::move(source_name);
  std::string section;
  bool have_section = false;
  // Index into entries_ of the entry a continuation line extends, or -1.
  long open_entry = -1;
  int line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view raw = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    std::string_view line = Strip(raw);
    if (line.empty()) {
      // oslo ends a value at a blank line.
      open_entry = -1;
      if (nl == text.size()) break;
      continue;
    }
    if (line.front() == '#' || line.front() == ';') {
      if (nl == text.size()) break;
      continue;
    }
    auto where = [&] { return ini.Where(line_no); };
    if (IsSpace(raw.front())) {
      if (open_entry < 0) {
        return Status::InvalidArgument(where() +
                                       ": indented line continues no entry: '" +
                                       std::string(line) +
                                       "' (continuation lines must follow a "
                                       "'key = value' line)");
      }
      IniEntry& e = ini.entries_[open_entry];
      e.value = e.value.empty() ? std::string(line)
                                : e.value + "\n" + std::string(line);
      if (nl == text.size()) break;
      continue;
    }
    open_entry = -1;
    if (line.front() == '[') {
      if (line.back() != ']' || line.size() < 3) {
        return Status::InvalidArgument(
            where() + ": malformed section header '" + std::string(line) +
            "' (expected '[name]')");
      }
      section = std::string(Strip(line.substr(1, line.size() - 2)));
      if (section.empty()) {
        return Status::InvalidArgument(where() + ": empty section name '" +
                                       std::string(line) + "'");
      }
      have_section = true;
      if (std::find(ini.sections_.begin(), ini.sections_.end(), section) ==
          ini.sections_.end()) {
        ini.sections_.push_back(section);
      }
      if (nl == text.size()) break;
      continue;
    }
    size_t sep = line.find_first_of("=:");
    if (sep == std::string_view::npos) {
      return Status::InvalidArgument(
          where() +
          ": expected 'key = value', a '[section]' header or a "
          "comment, got '" +
          ShowText(line) + "'");
    }
    std::string key(Strip(line.substr(0, sep)));
    if (key.empty()) {
      return Status::InvalidArgument(where() + ": entry has no key: '" +
                                     std::string(line) + "'");
    }
    if (!have_section) {
      return Status::InvalidArgument(
          where() + ": entry '" + key +
          "' comes before any section header (add e.g. '[pci]' above it)");
    }
    ini.entries_.push_back(
        IniEntry{section, key, Unquote(Strip(line.substr(sep + 1))), line_no});
    open_entry = static_cast<long>(ini.entries_.size()) - 1;
    if (nl == text.size()) break;
  }
  return ini;
}

Result<IniFile> IniFile::Load(const std::filesystem::path& path) {
  Result<std::string> text = ReadUserFile(path, kMaxConfigBytes);
  if (!text.ok()) {
    if (text.status().sys_errno() == ENOENT) {
      return Status::NotFound("config file " + path.string() +
                              " not found; give an existing file with "
                              "--config FILE (or $PCIPASS_CONFIG)");
    }
    return text.status().WithContext("read config " + path.string());
  }
  return Parse(*text, path.string());
}

std::optional<std::string> IniFile::Get(std::string_view section,
                                        std::string_view key) const {
  std::optional<std::string> last;
  for (const IniEntry& e : entries_) {
    if (e.section == section && e.key == key) last = e.value;
  }
  return last;
}

std::vector<IniEntry> IniFile::GetAll(std::string_view section,
                                      std::string_view key) const {
  std::vector<IniEntry> out;
  for (const IniEntry& e : entries_) {
    if (e.section == section && e.key == key) out.push_back(e);
  }
  return out;
}

std::vector<std::string> IniFile::Sections() const { return sections_; }

std::vector<std::string> IniFile::Keys(std::string_view section) const {
  std::vector<std::string> keys;
  for (const IniEntry& e : entries_) {
    if (e.section == section &&
        std::find(keys.begin(), keys.end(), e.key) == keys.end()) {
      keys.push_back(e.key);
    }
  }
  return keys;
}

std::string IniFile::Where(int line) const {
  return source_ + ":" + std::to_string(line);
}

}  // namespace pcipass
