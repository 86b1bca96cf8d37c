#include "testing/fixture_tree.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace pcipass::testing {

namespace fs = std::filesystem;

namespace {
[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "fixture: %s\n", what.c_str());
  std::abort();
}
}  // namespace

FixtureTree::FixtureTree() {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ =
      std::string(tmp && *tmp ? tmp : "/tmp") + "/pcipass-fixture-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) Die("mkdtemp " + templ);
  root_ = templ;
}

FixtureTree::FixtureTree(fs::path root)
    : root_(std::move(root)), owned_(false) {
  fs::create_directories(root_);
}

FixtureTree::~FixtureTree() {
  if (owned_) {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
}

fs::path FixtureTree::Abs(std::string_view rel) const {
  while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
  return root_ / fs::path(rel);
}

void FixtureTree::WriteFile(std::string_view rel,
                            std::string_view content) const {
  fs::path p = Abs(rel);
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  if (ec) Die("mkdir " + p.parent_path().string() + ": " + ec.message());
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  if (!f) Die("open " + p.string());
  f.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!f) Die("write " + p.string());
}

void FixtureTree::Symlink(std::string_view rel, std::string_view target) const {
  fs::path p = Abs(rel);
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  fs::remove(p, ec);
  fs::create_symlink(fs::path(target), p, ec);
  if (ec) Die("symlink " + p.string() + ": " + ec.message());
}

void FixtureTree::MakeDir(std::string_view rel) const {
  std::error_code ec;
  fs::create_directories(Abs(rel), ec);
  if (ec) Die("mkdir " + Abs(rel).string() + ": " + ec.message());
}

void FixtureTree::Remove(std::string_view rel) const {
  std::error_code ec;
  fs::remove_all(Abs(rel), ec);
}

}  // namespace pcipass::testing
