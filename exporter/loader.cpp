#include "loader.h"

#include <algorithm>
#include <map>

#include "log.h"

namespace cgio {

std::string OperationStatus::probe_type_label() const {
  return std::string(to_string(chosen != nullptr ? chosen->probe_type : last_tried));
}

size_t LoadedPrograms::attached_count() const {
  return static_cast<size_t>(std::count_if(operations.begin(), operations.end(),
                                           [](const OperationStatus& s) { return s.attached; }));
}

namespace {

struct Pending {
  OperationStatus* status;
  std::vector<const Implementation*> remaining;  // in preference order
};

std::string describe(const Implementation& impl) {
  return std::string(to_string(impl.probe_type)) + "/" + std::string(impl.variant);
}

void record_failure(OperationStatus& status, const Implementation& impl, const std::string& why) {
  status.attempts.push_back(describe(impl) + ": " + why);
  status.last_tried = impl.probe_type;
  log::warn("cannot use implementation",
            {{"operation", status.operation},
             {"probe_type", to_string(impl.probe_type)},
             {"variant", impl.variant},
             {"reason", why}});
}

// Attaches every program of `impl`; on the first failure detaches the ones
// already attached so the operation is either fully counted or not at all.
Result<void> attach_all(LoadedObject& obj, const Implementation& impl) {
  for (size_t i = 0; i < impl.programs.size(); ++i) {
    auto r = obj.attach(impl.programs[i]);
    if (!r) {
      for (size_t j = 0; j < i; ++j) obj.detach(impl.programs[j]);
      return Error{"attaching " + std::string(impl.programs[i]) + ": " + r.error()};
    }
  }
  return {};
}

}  // namespace

LoadedPrograms load_programs(const std::vector<std::string_view>& wanted,
                             std::span<const Implementation> candidates,
                             const KernelFacts& kernel, ObjectLoader& loader) {
  LoadedPrograms out;
  out.operations.reserve(wanted.size());
  std::vector<Pending> pending;
  for (std::string_view op : wanted) {
    OperationStatus s;
    s.operation = std::string(op);
    std::vector<const Implementation*> impls;
    for (const Implementation& impl : candidates) {
      if (impl.operation == op) {
        impls.push_back(&impl);
        s.domain = impl.domain;
      }
    }
    out.operations.push_back(std::move(s));
    if (impls.empty()) out.operations.back().attempts.push_back("no implementation in catalogue");
    pending.push_back({nullptr, std::move(impls)});
  }
  for (size_t i = 0; i < pending.size(); ++i) pending[i].status = &out.operations[i];

  // Each round gives every unresolved operation its next available
  // implementation; operations that fail come back for another round.
  while (true) {
    std::map<const BpfObjectSpec*, std::vector<std::pair<Pending*, const Implementation*>>> round;
    for (Pending& p : pending) {
      if (p.status->attached) continue;
      while (!p.remaining.empty()) {
        const Implementation* impl = p.remaining.front();
        p.remaining.erase(p.remaining.begin());
        auto why_not = impl->unavailable ? impl->unavailable(kernel) : std::nullopt;
        if (why_not) {
          record_failure(*p.status, *impl, *why_not);
          continue;
        }
        round[impl->object].push_back({&p, impl});
        break;
      }
    }
    if (round.empty()) break;

    for (auto& [object, members] : round) {
      std::vector<std::string_view> programs;
      for (auto& [p, impl] : members) {
        programs.insert(programs.end(), impl->programs.begin(), impl->programs.end());
      }
      // Together first; one object per operation if the verifier objects.
      std::vector<std::pair<std::unique_ptr<LoadedObject>,
                            std::vector<std::pair<Pending*, const Implementation*>>>>
          instances;
      auto together = loader.load(*object, programs);
      if (together) {
        instances.emplace_back(std::move(together.value()), members);
      } else {
        log::debug("combined load failed, loading operations one by one",
                   {{"object", object->name}, {"reason", together.error()}});
        for (auto& member : members) {
          auto alone = loader.load(*object, member.second->programs);
          if (!alone) {
            record_failure(*member.first->status, *member.second, "load: " + alone.error());
            continue;
          }
          instances.emplace_back(std::move(alone.value()),
                                 std::vector<std::pair<Pending*, const Implementation*>>{member});
        }
      }
      for (auto& [obj, users] : instances) {
        for (auto& [p, impl] : users) {
          auto attached = attach_all(*obj, *impl);
          if (!attached) {
            record_failure(*p->status, *impl, attached.error());
            continue;
          }
          p->status->attached = true;
          p->status->chosen = impl;
          p->status->last_tried = impl->probe_type;
          log::info("counting operation",
                    {{"operation", p->status->operation},
                     {"probe_type", to_string(impl->probe_type)},
                     {"variant", impl->variant}});
        }
        if (obj->has_links()) out.objects.push_back(std::move(obj));
      }
    }
  }

  for (const OperationStatus& s : out.operations) {
    if (!s.attached) {
      std::string all;
      for (const auto& a : s.attempts) all += (all.empty() ? "" : "; ") + a;
      log::error("operation is not counted", {{"operation", s.operation}, {"attempts", all}});
    }
  }
  return out;
}

}  // namespace cgio
