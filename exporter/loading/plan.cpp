#include "loading/plan.h"

#include <algorithm>
#include <sstream>

#include "util/log.h"

namespace cgio {

std::string_view to_string(AttemptStatus status) {
  switch (status) {
    case AttemptStatus::attached:
      return "attached";
    case AttemptStatus::usable:
      return "usable";
    case AttemptStatus::prototype_mismatch:
      return "prototype_mismatch";
    case AttemptStatus::requirement_missing:
      return "requirement_missing";
    case AttemptStatus::probe_refused:
      return "probe_refused";
    case AttemptStatus::load_failed:
      return "load_failed";
    case AttemptStatus::attach_failed:
      return "attach_failed";
  }
  return "unknown";
}

namespace {

struct Failure {
  AttemptStatus status;
  std::string reason;
};

// Static checks: prototypes (or absence) and extra requirements.
std::optional<Failure> verify(const Implementation& impl, const KernelFacts& kernel) {
  if (!impl.prototypes.empty() && kernel.btf == nullptr) {
    return Failure{AttemptStatus::prototype_mismatch, "no kernel BTF to check prototypes against"};
  }
  for (const ProtoSpec& spec : impl.prototypes) {
    if (auto r = check_prototype(*kernel.btf, spec); !r) {
      return Failure{AttemptStatus::prototype_mismatch, std::move(r).error().message};
    }
  }
  if (impl.requires_) {
    if (auto met = impl.requires_(kernel); !met) return Failure{AttemptStatus::requirement_missing, met.error()};
  }
  return std::nullopt;
}

// The hook a real probe tries: the first present hooked function, or the
// first tracepoint.
Result<void> probe_first_hook(const Implementation& impl, const KernelFacts& kernel) {
  if (!kernel.probe) return {};
  std::string_view target;
  for (const ProtoSpec& spec : impl.prototypes) {
    if (!spec.absent) {
      target = spec.function;
      break;
    }
  }
  if (target.empty() && !impl.tracepoints.empty()) target = impl.tracepoints.front();
  return kernel.probe(impl.probe_type, target);
}

Choice choose(std::string_view op, ProbeType type, const std::vector<const Implementation*>& variants,
              const KernelFacts& kernel) {
  Choice c;
  c.type = type;
  const Implementation* by_version = nullptr;
  if (kernel.version.known()) {
    for (const Implementation* v : variants) {
      if (v->versions.contains(kernel.version)) {
        by_version = v;
        break;
      }
    }
  }
  if (by_version != nullptr) c.version_variant = std::string(by_version->variant);

  std::string first_failure;
  AttemptStatus first_status = AttemptStatus::prototype_mismatch;
  const auto failed = [&](const Implementation* v, const Failure& f) {
    if (!first_failure.empty()) return;
    first_failure = std::string(v->variant) + ": " + f.reason;
    first_status = f.status;
  };
  if (by_version != nullptr) {
    if (auto why = verify(*by_version, kernel); !why) {
      c.impl = by_version;
    } else {
      failed(by_version, *why);
    }
  }
  if (c.impl == nullptr) {
    for (const Implementation* v : variants) {
      if (v == by_version) continue;
      auto why = verify(*v, kernel);
      if (!why) {
        c.impl = v;
        break;
      }
      failed(v, *why);
    }
    if (c.impl != nullptr && (by_version != nullptr || variants.size() > 1)) {
      c.note = by_version != nullptr
                   ? "kernel " + kernel.version.str() + " suggests variant " + std::string(by_version->variant) +
                         " but BTF matches " + std::string(c.impl->variant) + " (" + first_failure + "): BTF wins"
                   : "no variant is listed for kernel " + kernel.version.str() + "; BTF matches " +
                         std::string(c.impl->variant);
    }
  }
  if (c.impl == nullptr) {
    // Name the variant the kernel would have needed, when there is one to name.
    c.impl = variants.size() == 1 ? variants.front() : by_version;
    c.status = first_status;
    c.reason = variants.size() == 1 ? first_failure.substr(first_failure.find(": ") + 2)
                                    : "no variant matches this kernel (" + first_failure + ")";
    return c;
  }
  if (!c.note.empty()) {
    log::warn("kernel variant chosen by BTF", {{"operation", op}, {"probe_type", to_string(type)}, {"note", c.note}});
  }
  if (auto probed = probe_first_hook(*c.impl, kernel); !probed) {
    c.status = AttemptStatus::probe_refused;
    c.reason = std::move(probed).error().message;
  }
  return c;
}

}  // namespace

std::vector<OperationPlan> make_plan(const std::vector<std::string_view>& operations,
                                     std::span<const Implementation> candidates, const KernelFacts& kernel,
                                     std::optional<ProbeType> only) {
  std::vector<OperationPlan> plan;
  for (std::string_view op : operations) {
    OperationPlan p;
    p.operation = std::string(op);
    bool every_type = false;
    for (const Implementation& impl : candidates)
      every_type = every_type || (impl.operation == op && impl.every_probe_type);
    for (ProbeType type : kProbeTypesByPreference) {
      if (only && *only != type && !every_type) continue;
      std::vector<const Implementation*> variants;
      for (const Implementation& impl : candidates) {
        if (impl.operation == op && impl.probe_type == type) {
          variants.push_back(&impl);
          p.group = impl.group;
        }
      }
      if (variants.empty()) continue;
      p.choices.push_back(choose(op, type, variants, kernel));
    }
    plan.push_back(std::move(p));
  }
  return plan;
}

std::string render_plan(const std::vector<OperationPlan>& plan, const KernelFacts& kernel,
                        std::optional<ProbeType> only) {
  std::ostringstream out;
  out << "cgio_exporter plan for kernel " << kernel.release << " (version " << kernel.version.str() << ", BTF "
      << (kernel.btf != nullptr ? kernel.btf_source : "unavailable") << ")\n"
      << "probe types: " << (only ? std::string(to_string(*only)) + " (forced)" : "auto: fentry, kprobe, tracepoint")
      << "\nNothing is loaded to make this plan: variants are chosen from the version table and checked\n"
         "against BTF. At start-up each chosen variant is also probed by attaching a trivial program,\n"
         "and the first that loads and attaches counts the operation.\n\n";
  size_t w_op = 9, w_type = 10, w_var = 7;
  for (const auto& p : plan) {
    w_op = std::max(w_op, p.operation.size());
    for (const auto& c : p.choices) w_var = std::max(w_var, c.variant().size());
  }
  const auto pad = [](const std::string& s, size_t w) { return s + std::string(w > s.size() ? w - s.size() : 0, ' '); };
  out << pad("operation", w_op) << "  " << pad("probe type", w_type) << "  " << pad("variant", w_var) << "  why\n";
  for (const auto& p : plan) {
    bool first = true;
    if (p.choices.empty()) {
      out << pad(p.operation, w_op) << "  " << pad("-", w_type) << "  " << pad("-", w_var)
          << "  no implementation of this probe type\n";
    }
    for (const auto& c : p.choices) {
      std::string why;
      if (!c.usable()) {
        why = "unavailable: " + c.reason;
      } else {
        why = !c.note.empty() ? c.note : c.impl->prototypes.empty() ? "kernel offers what it needs" : "BTF matches";
        if (!c.version_variant.empty() && c.note.empty()) why += "; version table agrees";
        std::string protos;
        for (const auto& spec : c.impl->prototypes) {
          if (spec.absent) continue;
          if (auto fn = kernel.btf->function(spec.function))
            protos += "\n" + std::string(w_op + w_type + w_var + 6, ' ') + fn->c_text;
        }
        why += protos;
      }
      out << pad(first ? p.operation : "", w_op) << "  " << pad(std::string(to_string(c.type)), w_type) << "  "
          << pad(c.variant().empty() ? "-" : c.variant(), w_var) << "  " << why << "\n";
      first = false;
    }
  }
  return out.str();
}

}  // namespace cgio
