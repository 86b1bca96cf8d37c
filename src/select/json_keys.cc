#include "select/json_keys.h"

#include <nlohmann/json.hpp>
#include <set>
#include <vector>

namespace pcipass {

namespace {

using nlohmann::json;

// SAX handler: one key set per open object; stops at the first duplicate.
// The parser keeps its own explicit stack, so deep nesting costs memory,
// not recursion.
class DuplicateFinder : public json::json_sax_t {
 public:
  std::optional<DuplicateJsonKey> found;

  bool null() override { return Value(); }
  bool boolean(bool) override { return Value(); }
  bool number_integer(json::number_integer_t) override { return Value(); }
  bool number_unsigned(json::number_unsigned_t) override { return Value(); }
  bool number_float(json::number_float_t, const std::string&) override {
    return Value();
  }
  bool string(json::string_t&) override { return Value(); }
  bool binary(json::binary_t&) override { return Value(); }
  bool start_object(std::size_t) override {
    Value();
    frames_.push_back({true, {}});
    return true;
  }
  bool key(json::string_t& k) override {
    if (!frames_.back().keys.insert(k).second) {
      found = DuplicateJsonKey{k, entry_};
      return false;  // stop parsing
    }
    return true;
  }
  bool end_object() override {
    frames_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    Value();
    frames_.push_back({false, {}});
    return true;
  }
  bool end_array() override {
    frames_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  struct Frame {
    bool is_object;
    std::set<std::string> keys;
  };

  // Counts the elements of a top-level array as values start in it.
  bool Value() {
    if (frames_.size() == 1 && !frames_[0].is_object) ++entry_;
    return true;
  }

  std::vector<Frame> frames_;
  int entry_ = 0;
};

}  // namespace

std::optional<DuplicateJsonKey> FindDuplicateJsonKey(std::string_view text) {
  DuplicateFinder finder;
  (void)json::sax_parse(text.begin(), text.end(), &finder,
                        json::input_format_t::json, /*strict=*/true);
  return finder.found;
}

}  // namespace pcipass
