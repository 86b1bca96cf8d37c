#include "testing/host_generator.h"

#include <gtest/gtest.h>
