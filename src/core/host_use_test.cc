#include "core/host_use.h"

#include <gtest/gtest.h>

#include "core/discovery.h"
#include "testing/fixture_tree.h"
#include "testing/sysfs_builder.h"

namespace pcipass {
namespace {

using testing::BlockSpec;
using testing::DeviceSpec;
using testing::FixtureTree;
using testing::NetdevSpec;
using testing::SysfsBuilder;

}  // namespace
}  // namespace pcipass
