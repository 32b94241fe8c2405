// The kernel release string (uname -r, e.g. "6.18.44-fc-v769").
// Invariant: an accepted release reads back the same from its str().
#include "fuzz_support.h"
#include "kernel/kernel.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto v = cgio::parse_kernel_release(cgio::fuzz::as_text(data, size));
  if (!v) return 0;
  const auto back = cgio::parse_kernel_release(v->str());
  FUZZ_CHECK(back && *back == *v);
  return 0;
}
