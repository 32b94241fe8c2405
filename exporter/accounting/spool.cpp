#include "accounting/spool.h"

#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "accounting/durable_file.h"

namespace cgio {

Result<Spooled> read_spool(const std::string& path, std::string_view this_boot) {
  Spooled out;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return out;
    return errno_error("cannot read accounting spool " + path, errno);
  }
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (auto r = parse_record_line(line, this_boot)) {
      out.records.push_back(std::move(*r));
    } else {
      ++out.unreadable;
    }
  }
  if (in.bad()) return errno_error("cannot read accounting spool " + path, errno);
  return out;
}

Result<void> write_spool(const std::string& path, std::string_view lines) {
  if (lines.empty()) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return errno_error("cannot remove accounting spool " + path, errno);
    }
    return {};
  }
  return replace_file(path, lines, 0640);
}

}  // namespace cgio
