// Structured log lines on stderr in logfmt, the format Prometheus
// components use: ts=... level=info msg="..." key=value ...
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace cgio::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

std::optional<Level> parse_level(std::string_view name);
void set_level(Level level);
bool enabled(Level level);

using Fields = std::initializer_list<std::pair<std::string_view, std::string_view>>;

void write(Level level, std::string_view msg, Fields fields = {});
inline void debug(std::string_view msg, Fields f = {}) { write(Level::debug, msg, f); }
inline void info(std::string_view msg, Fields f = {}) { write(Level::info, msg, f); }
inline void warn(std::string_view msg, Fields f = {}) { write(Level::warn, msg, f); }
inline void error(std::string_view msg, Fields f = {}) { write(Level::error, msg, f); }

// logfmt value quoting (exposed for tests).
std::string quote(std::string_view value);

}  // namespace cgio::log
