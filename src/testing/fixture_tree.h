// FixtureTree: a scratch directory that plays the part of "/" for tests.
//
// It creates real directories, files and symlinks in the layout the kernel
// uses (see AddDevice in the device helpers), so code under test reads it
// through HostRoot exactly as it reads a live host. The directory is removed
// when the FixtureTree is destroyed unless Keep() was called.
#ifndef PCIPASS_TESTING_FIXTURE_TREE_H_
#define PCIPASS_TESTING_FIXTURE_TREE_H_

#include <filesystem>
#include <string>
#include <string_view>

#include "core/host_root.h"

namespace pcipass::testing {

class FixtureTree {
 public:
  // A fresh directory under $TMPDIR (or /tmp) named pcipass-fixture-XXXXXX.
  FixtureTree();
  // Use an existing (possibly empty) directory; it is not removed.
  explicit FixtureTree(std::filesystem::path root);
  ~FixtureTree();
  FixtureTree(const FixtureTree&) = delete;
  FixtureTree& operator=(const FixtureTree&) = delete;

  const std::filesystem::path& root() const { return root_; }
  HostRoot host() const { return HostRoot(root_); }
  void Keep() { owned_ = false; }

  // Writes |content| to <root>/<rel>, creating parent directories. Aborts
  // the test binary on I/O errors (fixtures are test setup, not code under
  // test).
  void WriteFile(std::string_view rel, std::string_view content) const;
  // Creates <root>/<rel> as a symlink to |target| (stored verbatim).
  void Symlink(std::string_view rel, std::string_view target) const;
  void MakeDir(std::string_view rel) const;
  void Remove(std::string_view rel) const;
  std::filesystem::path Abs(std::string_view rel) const;

 private:
  std::filesystem::path root_;
  bool owned_ = true;
};

}  // namespace pcipass::testing

#endif  // PCIPASS_TESTING_FIXTURE_TREE_H_
