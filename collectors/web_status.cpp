#include "collectors/web_status.h"

#include <cstdint>

#include "collectors/families.h"

namespace cgio {

std::vector<prometheus::MetricFamily> WebStatusCollector::Collect() const {
  const WebStats s = stats_();
  struct Row {
    const char* name;
    const char* help;
    prometheus::MetricType type;
    uint64_t value;
  };
  using T = prometheus::MetricType;
  const Row rows[] = {
      {"cgio_web_connections_open", "HTTP connections open now.", T::Gauge, s.open_connections},
      {"cgio_web_connections_accepted_total", "HTTP connections accepted.", T::Counter, s.connections_accepted},
      {"cgio_web_connections_evicted_total",
       "Connections closed at --web.max-connections to make room for a new one (the longest idle first).", T::Counter,
       s.connections_evicted},
      {"cgio_web_connections_refused_total",
       "Connections refused at --web.max-connections because every connection was answering a request.", T::Counter,
       s.connections_refused},
      {"cgio_web_timeouts_total", "Connections closed for an idle, slow request or slow reading client.", T::Counter,
       s.timeouts},
      {"cgio_web_tls_handshake_failures_total", "TLS handshakes that failed (plain HTTP on a TLS port included).",
       T::Counter, s.tls_handshake_failures},
      {"cgio_web_requests_unauthorized_total", "Requests answered 401 (basic auth).", T::Counter, s.unauthorized},
      {"cgio_web_requests_malformed_total", "Requests answered 400, 405 or 431.", T::Counter, s.bad_requests},
  };
  std::vector<prometheus::MetricFamily> out;
  for (const Row& r : rows) {
    prometheus::MetricFamily f = family(r.name, r.help, r.type);
    add_sample(f, {}, static_cast<double>(r.value));
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace cgio
