// Writes that are durable once they return: the accounting file's appends
// and the spool's replacement share them.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "util/result.h"

namespace cgio {

// All of `data` to `fd`, resuming after short writes and EINTR. `what`
// names the file in errors ("accounting file /var/lib/...").
Result<void> write_all(int fd, std::string_view data, const std::string& what);

// fsync(2), retried on EINTR.
Result<void> fsync_retrying(int fd, const std::string& what);

// Makes a just-created or renamed file's directory entry durable. Best
// effort: journalling filesystems (ext4, xfs) commit the entry with the
// file's data, and callers must not retry work already done for it.
void fsync_parent_dir(const std::string& path);

// Replaces the file at `path` by `data` so that a crash leaves either the
// old file or the new one whole: a temporary file beside it is written,
// fsynced and renamed over it.
Result<void> replace_file(const std::string& path, std::string_view data, mode_t mode);

}  // namespace cgio
