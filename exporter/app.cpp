#include "app.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <csignal>
#include <cstring>

#include "bpf_status.h"
#include "cgroup_counters.h"
#include "cgroup_paths.h"
#include "counter_maps.h"
#include "counter_source.h"
#include "kernel.h"
#include "libbpf_loader.h"
#include "loader.h"
#include "log.h"
#include "mounts.h"
#include "privileges.h"
#include "programs.h"
#include "scrape.h"
#include "tracefs.h"
#include "web.h"

#include "contracts/net.h"
#include "contracts/vfs.h"

namespace cgio {
namespace {

Result<std::string> cgroup2_root(const Options& opts) {
  if (!opts.cgroup2_root.empty()) return opts.cgroup2_root;
  const std::string mountinfo = opts.procfs + "/self/mountinfo";
  auto mounts = read_mountinfo(mountinfo);
  if (!mounts) return Error{mounts.error()};
  auto m = find_mount(*mounts, "cgroup2");
  if (!m) {
    return Error{"no cgroup2 mount in " + mountinfo +
                 ": cgio counts by cgroup2 id; mount cgroup2 or pass --path.cgroup2"};
  }
  return m->mount_point;
}

std::vector<ProgramStatusRow> status_rows(const LoadedPrograms& programs) {
  std::vector<ProgramStatusRow> rows;
  for (const OperationStatus& s : programs.operations) {
    rows.push_back({s.operation, s.probe_type_label(),
                    s.chosen != nullptr ? std::string(s.chosen->variant) : std::string(),
                    s.attached});
  }
  return rows;
}

}  // namespace

int run(const Options& opts) {
  log::set_level(opts.log_level);
  install_libbpf_logging();
  log::info("starting cgio_exporter", {{"version", version_string()}});

  auto caps = effective_capabilities(opts.procfs);
  if (!caps) {
    log::error("cannot check capabilities", {{"err", caps.error()}});
    return 1;
  }
  if (auto ok = check_bpf_capabilities(*caps); !ok) {
    log::error(ok.error());
    return 1;
  }
  auto cgroot = cgroup2_root(opts);
  if (!cgroot) {
    log::error(cgroot.error());
    return 1;
  }
  auto kernel = probe_running_kernel();
  if (!kernel) {
    log::error("cannot inspect the running kernel", {{"err", kernel.error()}});
    return 1;
  }
  log::info("kernel", {{"release", kernel->facts.release},
                       {"btf", kernel->facts.vmlinux_btf != nullptr ? "yes" : "no"},
                       {"cgroup2", *cgroot}});

  // Bind first: a port in use is reported before seconds of BPF loading.
  auto web = WebServer::start(opts.listen_address, opts.telemetry_path);
  if (!web) {
    log::error(web.error());
    return 1;
  }

  CounterMapsConfig map_config;
  map_config.vfs = opts.collector_vfs;
  map_config.net = opts.collector_net;
  map_config.max_entries = opts.map_entries;
  map_config.preallocate = !kernel->facts.btf_has("bpf_mem_alloc", BTF_KIND_STRUCT);
  auto maps = CounterMaps::create(map_config);
  if (!maps) {
    log::error("cannot create counter maps", {{"err", maps.error()}});
    return 1;
  }

  Tracefs tracefs(opts.procfs);
  cgio_config bpf_config{};
  bpf_config.include_pseudo_fs = opts.vfs_include_pseudo_fs ? 1 : 0;
  LibbpfObjectLoader loader(maps->fds(), bpf_config, tracefs);
  std::vector<std::string_view> wanted;
  if (opts.collector_vfs) {
    for (auto op : operations(Domain::vfs)) wanted.push_back(op);
  }
  if (opts.collector_net) {
    for (auto op : operations(Domain::net)) wanted.push_back(op);
  }
  LoadedPrograms programs = load_programs(wanted, catalogue(), kernel->facts, loader);
  if (programs.attached_count() == 0) {
    log::error("no BPF program could be loaded and attached; nothing to count");
    return 1;
  }

  const unsigned ncpus = static_cast<unsigned>(libbpf_num_possible_cpus());
  auto paths = std::make_shared<CgroupPaths>(*cgroot);
  auto collectors = std::make_shared<InstrumentedCollectors>();
  if (opts.collector_vfs) {
    collectors->add("vfs", std::make_shared<CgroupCountersCollector>(
                               "vfs", vfs_metrics(),
                               std::make_shared<PerCpuHashSource>(maps->vfs(), CGIO_VFS_COUNTER_MAX, ncpus),
                               paths));
  }
  if (opts.collector_net) {
    constexpr size_t net_fields = sizeof(cgio_net_value) / sizeof(uint64_t);
    collectors->add("net", std::make_shared<CgroupCountersCollector>(
                               "net", net_metrics(),
                               std::make_shared<PerCpuHashSource>(maps->net(), net_fields, ncpus),
                               paths));
  }
  std::vector<std::string> map_names(CGIO_MAP_MAX);
  if (opts.collector_vfs) map_names[CGIO_MAP_VFS] = "vfs";
  if (opts.collector_net) map_names[CGIO_MAP_NET] = "net";
  const int map_full_fd = maps->map_full();
  collectors->add("bpf", std::make_shared<BpfStatusCollector>(
                             status_rows(programs),
                             [map_full_fd, ncpus] { return read_percpu_array(map_full_fd, CGIO_MAP_MAX, ncpus); },
                             map_names));

  (*web)->serve(collectors);
  const std::string counted =
      std::to_string(programs.attached_count()) + "/" + std::to_string(programs.operations.size());
  log::info("ready", {{"address", opts.listen_address.display((*web)->port())},
                      {"port", std::to_string((*web)->port())},
                      {"telemetry_path", opts.telemetry_path},
                      {"operations_counted", counted}});

  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  int sig = 0;
  sigwait(&stop, &sig);
  log::info("shutting down", {{"signal", strsignal(sig)}});
  // The web server goes first so no scrape runs while links and maps close.
  web.value().reset();
  programs = LoadedPrograms{};
  log::info("stopped; BPF programs detached");
  return 0;
}

}  // namespace cgio
