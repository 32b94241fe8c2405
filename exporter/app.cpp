#include "app.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <csignal>
#include <cstdio>
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
#include "plan.h"
#include "privileges.h"
#include "probes.h"
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
    ProgramStatusRow row{s.operation, s.probe_type_label(), s.variant_label(), s.attached, {}, s.program_fds};
    for (ProbeType type : kProbeTypesByPreference) {
      for (const Attempt& a : s.attempts) {
        if (a.type == type) row.attempts.push_back({std::string(to_string(a.type)), a.variant, std::string(to_string(a.status))});
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<std::string_view> wanted_operations(const Options& opts) {
  std::vector<std::string_view> wanted;
  if (opts.collector_vfs) {
    for (auto op : operations(Domain::vfs)) wanted.push_back(op);
  }
  if (opts.collector_net) {
    for (auto op : operations(Domain::net)) wanted.push_back(op);
  }
  return wanted;
}

KernelFacts kernel_facts(const RunningKernel& k) {
  KernelFacts f;
  f.release = k.release;
  f.version = k.version;
  f.btf = k.btf ? &*k.btf : nullptr;
  f.btf_source = k.btf_source;
  return f;
}

Result<void> probe(AttachProber& prober, ProbeType type, std::string_view target) {
  const std::string t(target);
  switch (type) {
    case ProbeType::fentry: return prober.fentry(t);
    case ProbeType::kprobe: return prober.kprobe(t);
    case ProbeType::tracepoint:
      if (t.starts_with("btf:")) return prober.btf_tracepoint(t.substr(4));
      return prober.tracepoint(t);
  }
  return Error{"unknown probe type"};
}

}  // namespace

int print_plan(const Options& opts) {
  auto kernel = inspect_running_kernel(opts.btf_path);
  if (!kernel) {
    std::fprintf(stderr, "cgio_exporter: %s\n", kernel.error().c_str());
    return 1;
  }
  if (!kernel->btf) std::fprintf(stderr, "cgio_exporter: %s\n", kernel->btf_error.c_str());
  const KernelFacts facts = kernel_facts(*kernel);  // no probe: nothing is loaded
  const auto plan = make_plan(wanted_operations(opts), catalogue(), facts, opts.probe_type);
  std::fputs(render_plan(plan, facts, opts.probe_type).c_str(), stdout);
  return 0;
}

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
  auto kernel = inspect_running_kernel(opts.btf_path);
  if (!kernel) {
    log::error("cannot inspect the running kernel", {{"err", kernel.error()}});
    return 1;
  }
  if (!kernel->btf) {
    log::error("kernel BTF is required (CO-RE relocation and prototype checks); give --bpf.btf-path",
               {{"err", kernel->btf_error}});
    return 1;
  }
  log::info("kernel", {{"release", kernel->release}, {"btf", kernel->btf_source}, {"cgroup2", *cgroot}});

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
  map_config.preallocate = !kernel->btf->has_type("bpf_mem_alloc", BTF_KIND_STRUCT);
  auto maps = CounterMaps::create(map_config);
  if (!maps) {
    log::error("cannot create counter maps", {{"err", maps.error()}});
    return 1;
  }

  Tracefs tracefs(opts.procfs);
  AttachProber prober(tracefs);
  KernelFacts facts = kernel_facts(*kernel);
  facts.probe = [&prober](ProbeType type, std::string_view target) { return probe(prober, type, target); };
  const auto plan = make_plan(wanted_operations(opts), catalogue(), facts, opts.probe_type);

  cgio_config bpf_config{};
  bpf_config.include_pseudo_fs = opts.vfs_include_pseudo_fs ? 1 : 0;
  LibbpfObjectLoader loader(maps->fds(), bpf_config, tracefs, opts.btf_path);
  LoadedPrograms programs = load_programs(plan, loader);
  if (programs.attached_count() == 0) {
    log::error("no BPF program could be loaded and attached; nothing to count",
               {{"probe_type", opts.probe_type ? to_string(*opts.probe_type) : "auto"}});
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
                             kernel->release, status_rows(programs),
                             [map_full_fd, ncpus] { return read_percpu_array(map_full_fd, CGIO_LOST_SLOTS, ncpus); },
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
