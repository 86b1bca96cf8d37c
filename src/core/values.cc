#include "core/values.h"

#include <cstdio>

namespace pcipass {

namespace {

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '-';
}

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

}  // namespace

namespace {

// ShowValue and ShowText: |escape_all| also escapes backslashes and bytes
// from 0x80 (ShowValue), otherwise only control bytes (ShowText).
std::string Show(std::string_view text, size_t max_chars, bool escape_all) {
  std::string out;
  const size_t shown = text.size() > max_chars ? max_chars : text.size();
  for (size_t i = 0; i < shown; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\\' && escape_all) {
      out += "\\\\";
    } else if (c < 0x20 || c == 0x7f || (c > 0x7f && escape_all)) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (shown < text.size()) {
    out += "...(" + std::to_string(text.size()) + " characters)";
  }
  return out;
}

}  // namespace

std::string ShowValue(std::string_view text, size_t max_chars) {
  return Show(text, max_chars, /*escape_all=*/true);
}

std::string ShowText(std::string_view text, size_t max_chars) {
  return Show(text, max_chars, /*escape_all=*/false);
}

std::string ClipLongNumbers(std::string_view text, size_t max_digits) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] < '0' || text[i] > '9') {
      out += text[i++];
      continue;
    }
    size_t end = i;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
    if (end - i > max_digits) {
      out.append(text.substr(i, max_digits));
      out += "...";
    } else {
      out.append(text.substr(i, end - i));
    }
    i = end;
  }
  return out;
}

Status CheckInstanceId(std::string_view id) {
  const std::string rule =
      "an instance id is 1.." + std::to_string(kMaxInstanceIdLength) +
      " characters of A-Z a-z 0-9 . _ : - starting with a letter or digit "
      "(e.g. a Nova instance UUID or a libvirt domain name)";
  if (id.empty()) {
    return Status::InvalidArgument("--instance must not be empty; " + rule);
  }
  if (id.size() > kMaxInstanceIdLength) {
    return Status::InvalidArgument("instance id '" + ShowValue(id, 40) +
                                   "' is too long; " + rule);
  }
  for (size_t i = 0; i < id.size(); ++i) {
    if (!IsIdChar(id[i])) {
      return Status::InvalidArgument(
          "instance id '" + ShowValue(id, 40) + "' has the character '" +
          ShowValue(id.substr(i, 1)) + "' at position " +
          std::to_string(i + 1) + "; " + rule);
    }
  }
  if (!IsAlnum(id[0])) {
    return Status::InvalidArgument("instance id '" + ShowValue(id, 40) +
                                   "' starts with '" + std::string(1, id[0]) +
                                   "'; " + rule);
  }
  return Status::Ok();
}

}  // namespace pcipass
