// Label values (web/label_value.h). Invariants: the result is always valid
// UTF-8; a valid input comes back unchanged; an invalid one decodes back to
// its bytes (every backslash in it starts a \xHH escape); the text-format
// rendering of a label never holds a raw newline or an unescaped quote.
#include <string>

#include "fuzz_support.h"
#include "web/exposition.h"
#include "web/label_value.h"

namespace {

std::string decode(const std::string& value) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '\\') {
      out.push_back(value[i]);
      continue;
    }
    FUZZ_CHECK(i + 3 < value.size() && value[i + 1] == 'x');
    out.push_back(static_cast<char>(std::stoi(value.substr(i + 2, 2), nullptr, 16)));
    i += 3;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in = cgio::fuzz::as_text(data, size);
  const std::string out = cgio::utf8_label_value(in);
  FUZZ_CHECK(cgio::valid_utf8(out));
  if (cgio::valid_utf8(in)) {
    FUZZ_CHECK(out == in);
  } else {
    FUZZ_CHECK(decode(out) == in);
  }
  std::string label;
  cgio::ExpositionWriter::append_label(label, "l", in);
  FUZZ_CHECK(label.find('\n') == std::string::npos);
  FUZZ_CHECK(cgio::valid_utf8(label));
  // Between the quotes, every quote is escaped.
  for (size_t i = 3; i + 1 < label.size(); ++i) {
    if (label[i] == '"') {
      size_t backslashes = 0;
      for (size_t j = i; j > 3 && label[j - 1] == '\\'; --j) ++backslashes;
      FUZZ_CHECK(backslashes % 2 == 1);
    }
  }
  return 0;
}
