// The redis backend against its own redis-server: connection errors, options, groups.
#include <gtest/gtest.h>

int placeholder_;
