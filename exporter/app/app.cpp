#include "app/app.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <malloc.h>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>

#include "accounting/accounting_log.h"
#include "cgroups/cgroup_events.h"
#include "cgroups/cgroup_paths.h"
#include "cgroups/cgroup_setup.h"
#include "cgroups/tracker.h"
#include "collectors/bpf_status.h"
#include "collectors/cgroup_counters.h"
#include "collectors/scrape.h"
#include "collectors/tracking_status.h"
#include "kernel/kernel.h"
#include "kernel/mounts.h"
#include "kernel/privileges.h"
#include "kernel/probes.h"
#include "kernel/pt_regs_offset.h"
#include "kernel/tracefs.h"
#include "loading/libbpf_loader.h"
#include "loading/loader.h"
#include "loading/plan.h"
#include "loading/programs.h"
#include "maps/counter_maps.h"
#include "maps/counter_source.h"
#include "util/log.h"
#include "util/version.h"
#include "web/web.h"

#include "contracts/net.h"
#include "contracts/vfs.h"

namespace cgio {
namespace {

std::vector<ProgramStatusRow> status_rows(const LoadedPrograms& programs) {
  std::vector<ProgramStatusRow> rows;
  for (const OperationStatus& s : programs.operations) {
    ProgramStatusRow row{s.operation, s.probe_type_label(), s.variant_label(), s.attached, {}, s.program_fds};
    for (ProbeType type : kProbeTypesByPreference) {
      for (const Attempt& a : s.attempts) {
        if (a.type == type)
          row.attempts.push_back({std::string(to_string(a.type)), a.variant, std::string(to_string(a.status))});
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

namespace {

// The accounting record of a unit that ended: every counter by name, the
// labelled ones with their labels, from the same tables the metrics use.
AccountingRecord to_record(const EndedUnit& u, const std::vector<MetricSpec> (&tables)[kCounterDomains]) {
  AccountingRecord r;
  r.workload = u.key.workload;
  r.workload_id = u.key.workload_id;
  r.step = u.key.step;
  r.cgroup = u.key.cgroup;
  r.cgroup_id = u.cgroup_id;
  r.first_seen = u.first_seen;
  r.ended = u.ended;
  for (size_t d = 0; d < kCounterDomains; ++d) {
    for (const MetricSpec& m : tables[d]) {
      for (const SeriesSpec& s : m.series) {
        const uint64_t v = s.counter < u.totals[d].size() ? u.totals[d][s.counter] : 0;
        if (s.labels.empty()) {
          r.counters.emplace_back(m.name, v);
        } else {
          r.labelled.push_back({m.name, s.labels, v});
        }
      }
    }
  }
  return r;
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
  auto mounts = read_mountinfo(opts.procfs + "/self/mountinfo");
  if (!mounts) {
    log::error(mounts.error());
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

  // Which cgroups I/O is charged to.
  WorkloadClassifier classifier(opts.workload_pattern, opts.aggregate);
  std::string v2_root = opts.cgroup2_root;
  if (v2_root.empty()) {
    if (auto m = find_mount(*mounts, "cgroup2")) v2_root = m->mount_point;
  }
  auto choice = choose_cgroup_hierarchy(opts.cgroup_mode, opts.v1_controller, *mounts, opts.procfs + "/cgroups",
                                        v2_root, classifier);
  if (!choice) {
    log::error(choice.error());
    return 1;
  }
  cgio_config bpf_config{};
  bpf_config.include_pseudo_fs = opts.vfs_include_pseudo_fs ? 1 : 0;
  if (choice->v1) {
    auto ssid = cgroup_subsys_id(*kernel->btf, choice->controller);
    if (!ssid) {
      log::error(ssid.error());
      return 1;
    }
    bpf_config.cgroup_v1 = 1;
    bpf_config.v1_subsys_id = *ssid;
  }
  bpf_config.init_cgroupns_inum = kInitCgroupNsInum;
  if (opts.collector_vfs) {  // only the VFS syscall exit programs read the registers
    if (auto offset = measure_pt_regs_offset(opts.btf_path)) {
      bpf_config.pt_regs_offset = *offset;
      log::debug("saved user registers located", {{"offset_from_stack", std::to_string(*offset)}});
    } else {
      log::info("syscall exit programs read arguments through bpf_task_pt_regs", {{"why", offset.error()}});
    }
  }
  log::info("kernel", {{"release", kernel->release}, {"btf", kernel->btf_source}});
  log::info("accounting by cgroup", {{"hierarchy", choice->v1 ? "v1" : "v2"},
                                     {"root", choice->root},
                                     {"controller", choice->controller},
                                     {"why", choice->reason},
                                     {"aggregate", to_string(opts.aggregate)},
                                     {"retain_ended", std::to_string(opts.retain_ended.count()) + "s"}});

  std::vector<uint32_t> mount_devs;
  if (!opts.mountpoints.empty()) {
    auto devs = mountpoint_devs(opts.mountpoints, *mounts);
    if (!devs) {
      log::error(devs.error());
      return 2;
    }
    mount_devs = std::move(devs.value());
    bpf_config.mountpoints = 1;
  }

  std::optional<AccountingLog> accounting;
  if (!opts.accounting_file.empty()) {
    auto boot_id = read_boot_id(opts.procfs);
    if (!boot_id) {
      log::error(boot_id.error());
      return 1;
    }
    auto opened = AccountingLog::open(opts.accounting_file, *boot_id);
    if (!opened) {
      log::error(opened.error());
      return 1;
    }
    accounting.emplace(std::move(opened.value()));
    log::info("accounting records", {{"file", opts.accounting_file},
                                     {"units_already_recorded", std::to_string(accounting->records_known())}});
  }

  // Bind first: a port in use is reported before seconds of BPF loading.
  auto web = WebServer::start(opts.listen_address, opts.telemetry_path, opts.gzip_level);
  if (!web) {
    log::error(web.error());
    return 1;
  }

  CounterMapsConfig map_config;
  map_config.vfs = opts.collector_vfs;
  map_config.net = opts.collector_net;
  map_config.vfs_mounts = !opts.mountpoints.empty();
  map_config.max_entries = opts.map_entries;
  map_config.preallocate = !kernel->btf->has_type("bpf_mem_alloc", BTF_KIND_STRUCT);
  auto maps = CounterMaps::create(map_config);
  if (!maps) {
    log::error("cannot create counter maps", {{"err", maps.error()}});
    return 1;
  }
  for (uint32_t i = 0; i < mount_devs.size(); ++i) {
    const uint32_t index = i + 1;  // 0 is "other"
    if (bpf_map_update_elem(maps->mounts(), &mount_devs[i], &index, BPF_ANY) != 0) {
      log::error("cannot fill the mount map", {{"err", std::strerror(errno)}});
      return 1;
    }
  }

  Tracefs tracefs(opts.procfs);
  std::optional<AttachProber> prober;
  prober.emplace(tracefs);
  KernelFacts facts = kernel_facts(*kernel);
  facts.probe = [&prober](ProbeType type, std::string_view target) { return prober->probe(type, target); };
  auto plan = make_plan(wanted_operations(opts), catalogue(), facts, opts.probe_type);
  // The cgroup events are not a counted operation: a forced probe type does not apply.
  for (auto& p : make_plan(operations(Domain::cgroup), catalogue(), facts, std::nullopt)) plan.push_back(std::move(p));

  LibbpfObjectLoader loader(maps->fds(), bpf_config, tracefs, opts.btf_path);
  LoadedPrograms programs = load_programs(plan, loader);
  // The kernel BTF parsed for planning and probing is tens of MB the
  // exporter does not need once the programs are loaded.
  facts = KernelFacts{};
  plan.clear();
  prober.reset();
  kernel->btf.reset();
  malloc_trim(0);  // give those pages back rather than keep them in the heap
  size_t counting = 0;
  bool cgroup_events = false;
  for (const OperationStatus& s : programs.operations) {
    if (s.domain == Domain::cgroup) {
      cgroup_events = s.attached;
    } else if (s.attached) {
      ++counting;
    }
  }
  if (counting == 0) {
    log::error("no BPF program could be loaded and attached; nothing to count",
               {{"probe_type", opts.probe_type ? to_string(*opts.probe_type) : "auto"}});
    return 1;
  }
  if (!cgroup_events) {
    log::warn("cgroup events unavailable: removed cgroups are found by walking the hierarchy every 2s");
  }

  const unsigned ncpus = static_cast<unsigned>(libbpf_num_possible_cpus());
  constexpr size_t net_fields = sizeof(cgio_net_value) / sizeof(uint64_t);
  const uint32_t mount_slots = static_cast<uint32_t>(mount_devs.size() + 1);
  const std::array<size_t, kCounterDomains> fields = {CGIO_VFS_COUNTER_MAX, net_fields, CGIO_VFS_OPENS};
  const std::array<size_t, kCounterDomains> widths = {opts.collector_vfs ? fields[0] : 0,
                                                      opts.collector_net ? fields[1] : 0,
                                                      mount_devs.empty() ? 0 : fields[2] * mount_slots};
  const std::vector<MetricSpec> tables[kCounterDomains] = {
      opts.collector_vfs ? vfs_metrics(mount_devs.empty()) : std::vector<MetricSpec>{},
      opts.collector_net ? net_metrics() : std::vector<MetricSpec>{},
      mount_devs.empty() ? std::vector<MetricSpec>{} : vfs_mount_metrics(opts.mountpoints)};

  BpfCounterStore store({maps->vfs(), maps->net(), maps->vfs_mounts()}, fields, ncpus, mount_slots);
  auto tracker = std::make_shared<CgroupTracker>(
      std::move(classifier), opts.retain_ended, store, widths, [] { return std::chrono::system_clock::now(); },
      [&accounting, &tables](const EndedUnit& u) {
        log::debug("unit ended",
                   {{"workload", u.key.workload}, {"workload_id", u.key.workload_id}, {"cgroup", u.key.cgroup}});
        if (!accounting) return;
        auto written = accounting->append(to_record(u, tables));
        if (!written)
          log::error("cannot write accounting record", {{"err", written.error()}, {"cgroup", u.key.cgroup}});
      });
  auto hierarchy = std::make_shared<const CgroupHierarchy>(choice->root);

  auto vfs_source = std::make_shared<PerCpuHashSource>(maps->vfs(), fields[0], ncpus);
  auto net_source = std::make_shared<PerCpuHashSource>(maps->net(), fields[1], ncpus);
  auto mounts_source = std::make_shared<PerCpuHashSource>(maps->vfs_mounts(), fields[2], ncpus, true, true);
  CgroupEventReader::Config events;
  events.ringbuf_fd = cgroup_events ? maps->cgroup_events() : -1;
  events.lost_fd = maps->events_lost();
  events.possible_cpus = ncpus;
  events.hierarchy_id = choice->hierarchy_id;
  events.reconcile_every = cgroup_events ? std::chrono::seconds(60) : std::chrono::seconds(2);
  events.ids_in_maps = [&] {
    std::vector<uint64_t> ids;
    for (const auto& source : {vfs_source, net_source, mounts_source}) {
      if (auto snap = source->read()) ids.insert(ids.end(), snap->keys.begin(), snap->keys.end());
    }
    return ids;
  };
  CgroupEventReader reader(events, *hierarchy, *tracker);

  auto collectors = std::make_shared<Scraper>();
  if (opts.collector_vfs) {
    collectors->add(std::make_shared<CgroupCountersCollector>("vfs", CounterDomain::vfs, tables[0], vfs_source, tracker,
                                                              hierarchy));
  }
  if (!mount_devs.empty()) {
    collectors->add(std::make_shared<CgroupCountersCollector>("vfs_mounts", CounterDomain::vfs_mounts, tables[2],
                                                              mounts_source, tracker, hierarchy));
  }
  if (opts.collector_net) {
    collectors->add(std::make_shared<CgroupCountersCollector>("net", CounterDomain::net, tables[1], net_source, tracker,
                                                              hierarchy));
  }
  std::vector<std::string> map_names(CGIO_MAP_MAX);
  if (opts.collector_vfs) map_names[CGIO_MAP_VFS] = "vfs";
  if (opts.collector_net) map_names[CGIO_MAP_NET] = "net";
  if (!mount_devs.empty()) map_names[CGIO_MAP_VFS_MOUNTS] = "vfs_mounts";
  const int map_full_fd = maps->map_full();
  collectors->add(
      "bpf", std::make_shared<BpfStatusCollector>(
                 kernel->release, status_rows(programs),
                 [map_full_fd, ncpus] { return read_percpu_array(map_full_fd, CGIO_LOST_SLOTS, ncpus); }, map_names));
  collectors->add("cgroups",
                  std::make_shared<TrackingStatusCollector>(
                      tracker, cgroup_events ? std::function<uint64_t()>([&reader] { return reader.events_lost(); })
                                             : std::function<uint64_t()>()));

  (*web)->serve([collectors](ExpositionWriter& out) { return collectors->write(out); });
  const std::string counted = std::to_string(counting) + "/" + std::to_string(wanted_operations(opts).size());
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
