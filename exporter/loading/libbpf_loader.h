// The real ObjectLoader: opens an embedded object with libbpf, gives it the
// exporter's shared counter maps, writes its configuration and loads it.
#pragma once

#include <string>

#include "kernel/tracefs.h"
#include "loading/loader.h"
#include "maps/counter_maps.h"

#include "contracts/common.h"

namespace cgio {

class LibbpfObjectLoader final : public ObjectLoader {
 public:
  // `btf_path`: kernel BTF for CO-RE relocation (empty: the running kernel's).
  LibbpfObjectLoader(SharedMapFds maps, cgio_config config, Tracefs& tracefs, std::string btf_path);
  Result<std::unique_ptr<LoadedObject>> load(const BpfObjectSpec& object,
                                             const std::vector<std::string_view>& programs) override;

 private:
  SharedMapFds maps_;
  cgio_config config_;
  Tracefs& tracefs_;
  std::string btf_path_;
};

// Routes libbpf's messages into the exporter's log (debug level); its
// warnings also end up in the reasons of failed loads and attaches.
void install_libbpf_logging();

}  // namespace cgio
