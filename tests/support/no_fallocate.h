#pragma once
// Makes this process's filesystems look like ext3's or ext2's: every fallocate fails with
// EOPNOTSUPP; optionally the kernel looks older than 5.14 too (madvise refuses
// MADV_POPULATE_WRITE with EINVAL). A seccomp filter, so no root is needed; it binds the
// calling process and its children for good, so call it in a forked child only.

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstddef>

namespace mlops::testing {

#if defined(__x86_64__)
inline constexpr unsigned kAuditArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
inline constexpr unsigned kAuditArch = AUDIT_ARCH_AARCH64;
#else
inline constexpr unsigned kAuditArch = 0;  // Unknown here: the filter is refused.
#endif

enum class Kernel { kThisOne, kBeforeLinux514 };

/// False when the filter cannot be installed (an architecture this does not know, or a
/// kernel without seccomp).
inline bool make_fallocate_unsupported(Kernel kernel = Kernel::kThisOne) {
  if (kAuditArch == 0) return false;
  // The low half of madvise's third argument (the advice): little-endian on both arches.
  constexpr auto kAdvice = static_cast<unsigned>(offsetof(seccomp_data, args) + 2 * 8);
  const bool old = kernel == Kernel::kBeforeLinux514;
  sock_filter program[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kAuditArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_fallocate, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EOPNOTSUPP & SECCOMP_RET_DATA)),
      // madvise(MADV_POPULATE_WRITE) refused, where an old kernel is asked for.
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, old ? __NR_madvise : ~0U, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kAdvice),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MADV_POPULATE_WRITE, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EINVAL & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  const sock_fprog filter{static_cast<unsigned short>(sizeof program / sizeof program[0]), program};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &filter) == 0;
}

}  // namespace mlops::testing
