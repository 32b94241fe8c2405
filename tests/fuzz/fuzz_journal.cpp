// The tracker's state journal (replay_journal and the StateJournal file
// around it). Input: the journal's text after its header.
// Invariants: every non-empty line is counted once, as read or unreadable;
// a line that is unreadable on its own changes no state; the restored
// series, written as a snapshot and read back through StateJournal::open,
// are the same series.
#include <algorithm>
#include <string>

#include "cgroups/tracker_state.h"
#include "fuzz_support.h"

namespace {

bool same(const cgio::SeriesState& a, const cgio::SeriesState& b) {
  for (size_t d = 0; d < cgio::kCounterDomains; ++d) {
    if (a.ended[d] != b.ended[d] || a.instance_start[d] != b.instance_start[d]) return false;
  }
  return a.key == b.key && a.open == b.open && a.unit_ids == b.unit_ids && a.first_seen == b.first_seen &&
         a.ended_at == b.ended_at && a.info == b.info;
}

bool empty(const cgio::RestoredState& s) { return s.series.empty() && s.ended_units.empty() && s.folded_ids.empty(); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = cgio::fuzz::as_text(data, size);
  const cgio::RestoredState state = cgio::replay_journal(text);

  size_t non_empty = 0;
  for (size_t start = 0; start < text.size();) {
    size_t nl = text.find('\n', start);
    const bool cut = nl == std::string_view::npos;
    if (cut) nl = text.size();
    const std::string_view line = text.substr(start, nl - start);
    start = nl + 1;
    if (line.empty()) continue;
    ++non_empty;
    if (non_empty > 32) continue;  // the per-line check below replays each line: bounded
    const cgio::RestoredState alone = cgio::replay_journal(std::string(line) + (cut ? "" : "\n"));
    FUZZ_CHECK(alone.lines + alone.unreadable == 1);
    if (alone.unreadable == 1) FUZZ_CHECK(empty(alone));
  }
  FUZZ_CHECK(state.lines + state.unreadable == non_empty);

  // Written back as a snapshot and read again: the same series.
  const std::string path = cgio::fuzz::scratch_dir() + "/state.json";
  ::unlink(path.c_str());
  auto opened = cgio::StateJournal::open(path, "boot", 7);
  FUZZ_CHECK(static_cast<bool>(opened) && !opened->state);
  FUZZ_CHECK(static_cast<bool>(opened->journal->snapshot(state.series, /*keep_ended=*/false)));
  opened->journal.reset();
  auto reopened = cgio::StateJournal::open(path, "boot", 7);
  FUZZ_CHECK(static_cast<bool>(reopened) && reopened->state);
  const cgio::RestoredState& back = *reopened->state;
  FUZZ_CHECK(back.unreadable == 0 && back.ended_units.empty() && back.folded_ids.empty());
  FUZZ_CHECK(back.series.size() == state.series.size());
  for (size_t i = 0; i < back.series.size(); ++i) FUZZ_CHECK(same(back.series[i], state.series[i]));
  return 0;
}
