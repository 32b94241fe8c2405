// The probe types cgio's programs come in, cheapest first.
#pragma once

#include <optional>
#include <string_view>

namespace cgio {

enum class ProbeType { fentry, kprobe, tracepoint };

inline constexpr ProbeType kProbeTypesByPreference[] = {ProbeType::fentry, ProbeType::kprobe, ProbeType::tracepoint};

std::string_view to_string(ProbeType type);
std::optional<ProbeType> parse_probe_type(std::string_view name);

}  // namespace cgio
