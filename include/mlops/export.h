#pragma once
/// \file MLOPS_EXPORT marks what the shared libraries export. They are built with
/// -fvisibility=hidden, so their ABI is exactly what the public headers mark; in a static
/// build the mark changes nothing.

#if defined(__GNUC__) || defined(__clang__)
#define MLOPS_EXPORT __attribute__((visibility("default")))
#else
#define MLOPS_EXPORT
#endif
