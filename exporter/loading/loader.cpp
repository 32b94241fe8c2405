#include "loading/loader.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <map>

#include "util/log.h"

namespace cgio {

std::string Attempt::describe() const {
  return std::string(to_string(type)) + (variant.empty() ? "" : "/" + variant) + ": " +
         (reason.empty() ? std::string(to_string(status)) : reason);
}

std::string OperationStatus::probe_type_label() const {
  if (chosen != nullptr) return std::string(to_string(chosen->probe_type));
  return attempts.empty() ? std::string() : std::string(to_string(attempts.back().type));
}

std::string OperationStatus::variant_label() const {
  if (chosen != nullptr) return std::string(chosen->variant);
  return attempts.empty() ? std::string() : attempts.back().variant;
}

size_t LoadedPrograms::attached_count() const {
  return static_cast<size_t>(
      std::count_if(operations.begin(), operations.end(), [](const OperationStatus& s) { return s.attached; }));
}

Result<void> LoadedPrograms::pin_links(const std::string& dir) const {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return errno_error("cannot create " + dir, errno);
  for (const auto& obj : objects) {
    if (auto r = obj->pin_links(dir); !r) return r;
  }
  return {};
}

namespace {

struct Pending {
  OperationStatus* status;
  std::vector<const Implementation*> remaining;  // in preference order
};

void record_failure(OperationStatus& status, ProbeType type, const std::string& variant, AttemptStatus what,
                    const std::string& why) {
  status.attempts.push_back({type, variant, what, why});
  log::info("probe type not usable for operation", {{"operation", status.operation},
                                                    {"probe_type", to_string(type)},
                                                    {"variant", variant},
                                                    {"status", to_string(what)},
                                                    {"reason", why}});
}

void record_failure(OperationStatus& status, const Implementation& impl, AttemptStatus what, const std::string& why) {
  record_failure(status, impl.probe_type, std::string(impl.variant), what, why);
}

// Attaches every program of `impl`; on the first failure detaches the ones
// already attached so the operation is either fully counted or not at all.
Result<void> attach_all(LoadedObject& obj, const Implementation& impl) {
  for (size_t i = 0; i < impl.programs.size(); ++i) {
    auto r = obj.attach(impl.programs[i]);
    if (!r) {
      for (size_t j = 0; j < i; ++j) obj.detach(impl.programs[j]);
      return r.error().context("attaching " + std::string(impl.programs[i]));
    }
  }
  return {};
}

}  // namespace

LoadedPrograms load_programs(const std::vector<OperationPlan>& plan, ObjectLoader& loader) {
  LoadedPrograms out;
  out.operations.reserve(plan.size());
  std::vector<Pending> pending;
  for (const OperationPlan& op : plan) {
    OperationStatus s;
    s.operation = op.operation;
    s.group = op.group;
    out.operations.push_back(std::move(s));
    std::vector<const Implementation*> usable;
    for (const Choice& c : op.choices) {
      if (c.usable()) usable.push_back(c.impl);
    }
    pending.push_back({nullptr, std::move(usable)});
  }
  for (size_t i = 0; i < pending.size(); ++i) {
    pending[i].status = &out.operations[i];
    // Unusable choices are recorded in plan order before any load is tried.
    for (const Choice& c : plan[i].choices) {
      if (!c.usable()) record_failure(out.operations[i], c.type, c.variant(), c.status, c.reason);
    }
  }

  // Each round gives every unresolved operation its next available
  // implementation; operations that fail come back for another round.
  while (true) {
    // Objects load and attach in plan order (the cgroup events first, see app.cpp).
    std::vector<std::pair<const BpfObjectSpec*, std::vector<std::pair<Pending*, const Implementation*>>>> round;
    for (Pending& p : pending) {
      if (p.status->attached || p.remaining.empty()) continue;
      const Implementation* impl = p.remaining.front();
      p.remaining.erase(p.remaining.begin());
      auto it = std::find_if(round.begin(), round.end(), [&](const auto& r) { return r.first == impl->object; });
      if (it == round.end()) it = round.insert(round.end(), {impl->object, {}});
      it->second.push_back({&p, impl});
    }
    if (round.empty()) break;

    for (auto& [object, members] : round) {
      std::vector<std::string_view> programs;
      for (auto& [p, impl] : members) {
        programs.insert(programs.end(), impl->programs.begin(), impl->programs.end());
      }
      // Together first; one object per operation if the verifier objects.
      std::vector<std::pair<std::unique_ptr<LoadedObject>, std::vector<std::pair<Pending*, const Implementation*>>>>
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
            record_failure(*member.first->status, *member.second, AttemptStatus::load_failed, alone.error());
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
            record_failure(*p->status, *impl, AttemptStatus::attach_failed, attached.error());
            continue;
          }
          p->status->attached = true;
          p->status->chosen = impl;
          for (auto prog : impl->programs) p->status->program_fds.push_back(obj->program_fd(prog));
          p->status->attempts.push_back({impl->probe_type, std::string(impl->variant), AttemptStatus::attached, ""});
          log::info("counting operation", {{"operation", p->status->operation},
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
      for (const auto& a : s.attempts) all += (all.empty() ? "" : "; ") + a.describe();
      if (all.empty()) all = "no implementation for the allowed probe types";
      log::error("operation is not counted", {{"operation", s.operation}, {"attempts", all}});
    }
  }
  return out;
}

}  // namespace cgio
