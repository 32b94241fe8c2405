// Test support: a tracker over a fake counter store, with a clock the test
// moves and the ended units it reports.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <vector>

#include "cgroups/tracker.h"

namespace cgio {

using namespace std::chrono_literals;
using time_point = std::chrono::system_clock::time_point;

// Final values waiting in the "kernel maps", and what was taken.
class FakeStore final : public CounterStore {
 public:
  void put(CounterDomain d, uint64_t id, std::vector<uint64_t> v) { values_[{static_cast<int>(d), id}] = std::move(v); }
  void read(CounterDomain d, uint64_t id, std::span<uint64_t> out) override {
    auto it = values_.find({static_cast<int>(d), id});
    if (it == values_.end()) return;
    for (size_t i = 0; i < out.size() && i < it->second.size(); ++i) out[i] += it->second[i];
  }
  void erase(CounterDomain d, uint64_t id) override {
    if (values_.erase({static_cast<int>(d), id}) > 0) taken.push_back(id);
  }
  bool holds(CounterDomain d, uint64_t id) const { return values_.contains({static_cast<int>(d), id}); }
  bool holds(uint64_t id) const override {
    for (const auto& [key, v] : values_) {
      if (key.second == id && key.first != static_cast<int>(CounterDomain::vfs_mounts)) return true;
    }
    return false;
  }
  std::vector<uint64_t> taken;

 private:
  std::map<std::pair<int, uint64_t>, std::vector<uint64_t>> values_;
};

inline constexpr std::array<size_t, kCounterDomains> kWidths = {2, 1, 4};  // small domains for readable tests

struct Harness {
  FakeStore store;
  time_point now = time_point(1'000'000s);
  std::vector<EndedUnit> ended;
  std::shared_ptr<CgroupTracker> tracker;

  explicit Harness(AggregateMode mode, std::chrono::seconds retain = 300s, const std::string& pattern = "") {
    auto classifier = WorkloadClassifier::create(pattern, mode);
    EXPECT_TRUE(classifier) << classifier.error().message;
    tracker = std::make_shared<CgroupTracker>(
        std::move(classifier.value()), retain, store, kWidths, [this] { return now; },
        [this](const EndedUnit& u) { ended.push_back(u); });
  }

  // The live vfs map: rows of {id, {v0, v1}}.
  static CounterSnapshot live(std::vector<std::pair<uint64_t, std::vector<uint64_t>>> rows, size_t fields = 2) {
    CounterSnapshot s;
    s.fields = fields;
    for (auto& [id, v] : rows) {
      s.keys.push_back(id);
      s.sums.insert(s.sums.end(), v.begin(), v.end());
    }
    return s;
  }
  // The aggregate keyed by rendered labels (see L()).
  static std::map<std::string, std::vector<uint64_t>> by_labels(const CgroupTracker::Aggregate& agg) {
    std::map<std::string, std::vector<uint64_t>> out;
    for (size_t i = 0; i < agg.labels.size(); ++i) {
      const auto row = agg.row(i);
      out[*agg.labels[i]] = std::vector<uint64_t>(row.begin(), row.end());
    }
    return out;
  }
  std::map<std::string, std::vector<uint64_t>> vfs(std::vector<std::pair<uint64_t, std::vector<uint64_t>>> rows = {}) {
    return by_labels(tracker->aggregate(CounterDomain::vfs, live(std::move(rows))));
  }
};

}  // namespace cgio
