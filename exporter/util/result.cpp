#include "util/result.h"

#include <cstring>

namespace cgio {

Error errno_error(const std::string& what, int err) { return Error{what + ": " + std::strerror(err)}; }

}  // namespace cgio
