#include "util/result.h"

#include <cstring>

namespace cgio {

Error errno_error(std::string_view what, int err, ErrorKind kind) {
  return Error{std::string(what) + ": " + std::strerror(err), err, kind};
}

}  // namespace cgio
