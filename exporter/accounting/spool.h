// The spool: accounting records that were not yet in the accounting file
// when the exporter stopped (or while the file kept failing), kept in a file
// of their own so that a restart writes them instead of losing them. It
// holds the records' lines exactly as they go to the accounting file (each
// with its boot id), and is replaced whole on every update, so it is never
// seen half-written.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "accounting/accounting_log.h"
#include "util/result.h"

namespace cgio {

struct Spooled {
  std::vector<RecordLine> records;
  size_t unreadable = 0;  // lines that are not a whole record (none unless edited by hand)
};

// The records of the spool at `path`; none when there is no such file.
// Records of `this_boot` get an empty RecordLine::boot_id.
Result<Spooled> read_spool(const std::string& path, std::string_view this_boot);

// Makes the spool hold exactly `lines` (records' lines, each with its
// newline); removes it when `lines` is empty.
Result<void> write_spool(const std::string& path, std::string_view lines);

}  // namespace cgio
