// The BPF <-> C++ contracts, checked at compile time from the C++ side:
// a layout the collectors misread would show as wrong numbers, not errors.
#include <cstddef>
#include <cstdint>

#include "contracts/common.h"
#include "contracts/net.h"
#include "contracts/vfs.h"

static_assert(sizeof(cgio_vfs_value) == CGIO_VFS_COUNTER_MAX * sizeof(uint64_t));
static_assert(sizeof(cgio_net_value) == static_cast<std::size_t>(CGIO_NET_PROTOCOL_MAX) * CGIO_NET_FAMILY_MAX *
                                            CGIO_NET_COUNTER_MAX * sizeof(uint64_t));
static_assert(sizeof(cgio_vfs_value) % 8 == 0, "per-CPU values are laid out 8-byte aligned");
static_assert(sizeof(cgio_net_value) % 8 == 0, "per-CPU values are laid out 8-byte aligned");
static_assert(sizeof(cgio_config) == 24);
static_assert(sizeof(cgio_mount_value) == CGIO_VFS_OPENS * sizeof(uint64_t));
static_assert(sizeof(cgio_mount_key) == 16);
static_assert(+CGIO_VFS_READ_BYTES == +CGIO_VFS_READS + +CGIO_OFF_BYTES);
static_assert(+CGIO_VFS_WRITE_ERRORS == +CGIO_VFS_WRITES + +CGIO_OFF_ERRORS);
static_assert(CGIO_VFS_OPEN_ERRORS == CGIO_VFS_OPENS + 1 && CGIO_VFS_CREATE_ERRORS == CGIO_VFS_CREATES + 1 &&
                  CGIO_VFS_UNLINK_ERRORS == CGIO_VFS_UNLINKS + 1 && CGIO_VFS_MKDIR_ERRORS == CGIO_VFS_MKDIRS + 1 &&
                  CGIO_VFS_RMDIR_ERRORS == CGIO_VFS_RMDIRS + 1,
              "cgio_count_call() counts errors in the slot after the calls");
