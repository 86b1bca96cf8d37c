#include "testing/sysfs_builder.h"

#include <gtest/gtest.h>
