#include "app/app.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>
#include <malloc.h>
#include <sys/vfs.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

#include "accounting/accounting_log.h"
#include "accounting/accounting_writer.h"
#include "accounting/spool.h"
#include "cgroups/cgroup_events.h"
#include "cgroups/cgroup_paths.h"
#include "cgroups/cgroup_setup.h"
#include "cgroups/tracker.h"
#include "cgroups/tracker_state.h"
#include "collectors/bpf_status.h"
#include "collectors/cgroup_counters.h"
#include "collectors/process.h"
#include "collectors/scrape.h"
#include "collectors/tracking_status.h"
#include "collectors/web_status.h"
#include "kernel/capabilities.h"
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
#include "maps/counter_store.h"
#include "maps/lost_updates.h"
#include "maps/pin_dir.h"
#include "util/log.h"
#include "util/version.h"
#include "web/basic_auth.h"
#include "web/tls_context.h"
#include "web/web.h"
#include "web/web_config.h"

#include "contracts/common.h"

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
    for (auto op : operations(ProgramGroup::vfs)) wanted.push_back(op);
  }
  if (opts.collector_net) {
    for (auto op : operations(ProgramGroup::net)) wanted.push_back(op);
  }
  return wanted;
}

// The counter domains this run counts: one per enabled collector, and the
// per-mount breakdown of the VFS counters with --vfs.mountpoints.
EnabledDomains enabled_domains(const Options& opts) {
  EnabledDomains on{};
  on[index_of(CounterDomain::vfs)] = opts.collector_vfs;
  on[index_of(CounterDomain::net)] = opts.collector_net;
  on[index_of(CounterDomain::vfs_mounts)] = opts.collector_vfs && !opts.mountpoints.empty();
  return on;
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
  if (!kernel->btf) {
    // The exporter would not start without BTF; neither is there a plan.
    std::fprintf(stderr,
                 "cgio_exporter: kernel BTF is required (CO-RE relocation and prototype checks); give "
                 "--bpf.btf-path: %s\n",
                 kernel->btf_error.c_str());
    return 1;
  }
  const KernelFacts facts = kernel_facts(*kernel);  // no probe: nothing is loaded
  const auto plan = make_plan(wanted_operations(opts), catalogue(), facts, opts.probe_type);
  std::fputs(render_plan(plan, facts, opts.probe_type).c_str(), stdout);
  return 0;
}

int unpin(const Options& opts) {
  if (opts.pin_path.empty()) {
    std::fprintf(stderr, "cgio_exporter: --bpf.unpin needs a --bpf.pin-path\n");
    return 2;
  }
  if (auto r = PinDir::remove_all(opts.pin_path); !r) {
    std::fprintf(stderr, "cgio_exporter: %s\n", r.error().c_str());
    return 1;
  }
  if (unlink(opts.state_file.c_str()) != 0 && errno != ENOENT) {
    std::fprintf(stderr, "cgio_exporter: cannot remove %s: %s\n", opts.state_file.c_str(), std::strerror(errno));
    return 1;
  }
  std::printf("removed the pinned state at %s and %s\n", opts.pin_path.c_str(), opts.state_file.c_str());
  return 0;
}

namespace {

// The accounting record of a unit that ended: every counter by name, the
// labelled ones with their labels, from the same tables the metrics use.
AccountingRecord to_record(const EndedUnit& u, const MetricTables& tables) {
  AccountingRecord r;
  r.workload = u.key.workload;
  r.workload_id = u.key.workload_id;
  r.step = u.key.step;
  r.cgroup = u.key.cgroup;
  r.cgroup_id = CgroupSpace::kernfs_id(u.cgroup_id);
  r.cgroup_v1 = r.cgroup_id != u.cgroup_id;
  r.info = u.info;
  r.first_seen = u.first_seen;
  r.ended = u.ended;
  r.ended_after = u.ended_after;
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

namespace {

// A phase that fails returns why; run() logs it once and exits with 2 for
// the operator's bad input (flags, mount points), else 1.
int exit_status(const Error& e) { return e.kind == ErrorKind::bad_input ? 2 : 1; }

// Phase 1: what the exporter needs to know before it binds or loads
// anything. Nothing here holds a kernel resource but the accounting file.
struct Gathered {
  RunningKernel kernel;
  std::optional<WorkloadClassifier> classifier;
  CgroupChoice choice;
  cgio_config bpf_config{};
  EnabledDomains domains{};
  std::vector<uint32_t> mount_devs;  // superblocks of --vfs.mountpoints
  // The file's formatter (owned by the writer, which outlives every user).
  const AccountingLog* accounting_log = nullptr;
  std::shared_ptr<AccountingWriter> accounting;
};

Result<Gathered> gather(const Options& opts) {
  Gathered g;
  if (!opts.cgroup2_root.empty()) {
    // A given root must be a cgroup2 mount (or a bind mount of one, as in
    // a container): anything else would only warn at every walk.
    struct statfs fs {};
    if (statfs(opts.cgroup2_root.c_str(), &fs) != 0) {
      return bad_input("--path.cgroup2 " + opts.cgroup2_root + ": " + std::strerror(errno));
    }
    if (fs.f_type != CGROUP2_SUPER_MAGIC) {
      return bad_input("--path.cgroup2 " + opts.cgroup2_root + " is not a cgroup2 filesystem");
    }
  }
  auto caps = effective_capabilities(opts.procfs);
  if (!caps) return caps.error().context("cannot check capabilities");
  if (auto ok = check_bpf_capabilities(*caps); !ok) return ok.error();
  auto mounts = read_mountinfo(opts.procfs + "/self/mountinfo");
  if (!mounts) return mounts.error();
  auto kernel = inspect_running_kernel(opts.btf_path);
  if (!kernel) return kernel.error().context("cannot inspect the running kernel");
  if (!kernel->btf) {
    return Error{"kernel BTF is required (CO-RE relocation and prototype checks); give --bpf.btf-path: " +
                 kernel->btf_error};
  }
  g.kernel = std::move(kernel.value());

  // Which cgroups I/O is charged to.
  g.classifier.emplace(opts.workload_pattern, opts.aggregate);
  std::string v2_root = opts.cgroup2_root;
  if (v2_root.empty()) {
    if (auto m = find_mount(*mounts, "cgroup2")) v2_root = m->mount_point;
  }
  auto choice =
      choose_cgroup_hierarchy(opts.cgroup_mode, opts.v1_controller, *mounts, opts.procfs + "/cgroups", v2_root);
  if (!choice) return choice.error();
  g.choice = std::move(choice.value());
  cgio_config& cfg = g.bpf_config;
  cfg.include_pseudo_fs = opts.vfs_include_pseudo_fs ? 1 : 0;
  cfg.cgroup_keys = static_cast<uint32_t>(g.choice.keys);
  if (g.choice.keys != CgroupKeys::v2) {
    auto ssid = cgroup_subsys_id(*g.kernel.btf, g.choice.controller);
    if (!ssid) return ssid.error();
    cfg.v1_subsys_id = *ssid;
    cfg.v1_hierarchy_id = g.choice.hierarchy_id;
  }
  cfg.init_cgroupns_inum = kInitCgroupNsInum;
  cfg.page_size = static_cast<uint32_t>(sysconf(_SC_PAGESIZE));
  if (opts.collector_vfs) {  // only the VFS syscall exit programs read the registers
    if (auto offset = measure_pt_regs_offset(opts.btf_path)) {
      cfg.pt_regs_offset = *offset;
      log::debug("saved user registers located", {{"offset_from_stack", std::to_string(*offset)}});
    } else {
      log::info("syscall exit programs read arguments through bpf_task_pt_regs", {{"why", offset.error()}});
    }
  }
  log::info("kernel", {{"release", g.kernel.release}, {"btf", g.kernel.btf_source}});
  log::info("accounting by cgroup", {{"hierarchy", to_string(g.choice.keys)},
                                     {"cgroup2_root", g.choice.v2_root},
                                     {"v1_root", g.choice.v1_root},
                                     {"controller", g.choice.controller},
                                     {"why", g.choice.reason},
                                     {"aggregate", to_string(opts.aggregate)},
                                     {"retain_ended", std::to_string(opts.retain_ended.count()) + "s"}});

  g.domains = enabled_domains(opts);
  if (!opts.mountpoints.empty()) {
    auto devs = mountpoint_devs(opts.mountpoints, *mounts);
    if (!devs) return devs.error();
    g.mount_devs = std::move(devs.value());
    cfg.mountpoints = 1;
  }

  if (!opts.accounting_file.empty()) {
    auto boot_id = read_boot_id(opts.procfs);
    if (!boot_id) return boot_id.error();
    const std::string spool = opts.accounting_spool_file.empty()     ? opts.accounting_file + ".spool"
                              : opts.accounting_spool_file == "none" ? std::string()
                                                                     : opts.accounting_spool_file;
    Spooled spooled;
    if (!spool.empty()) {
      auto read = read_spool(spool, *boot_id);
      if (!read) return Error{read.error().message + " (move it away to start without its records)"};
      spooled = std::move(read.value());
      if (spooled.unreadable > 0) {
        log::warn("accounting spool lines that are not a whole record are left out",
                  {{"spool", spool}, {"lines", std::to_string(spooled.unreadable)}});
      }
    }
    std::vector<std::string> spooled_boots;
    for (const RecordLine& r : spooled.records) {
      if (!r.boot_id.empty() &&
          std::find(spooled_boots.begin(), spooled_boots.end(), r.boot_id) == spooled_boots.end()) {
        spooled_boots.push_back(r.boot_id);
      }
    }
    auto opened = AccountingLog::open(opts.accounting_file, *boot_id, spooled_boots);
    if (!opened) return opened.error();
    auto log = std::make_unique<AccountingLog>(std::move(opened.value()));
    g.accounting_log = log.get();
    log::info("accounting records", {{"file", opts.accounting_file},
                                     {"units_already_recorded", std::to_string(log->records_known())},
                                     {"max_pending", std::to_string(opts.accounting_max_pending)},
                                     {"spool", spool.empty() ? "none" : spool},
                                     {"spooled_records", std::to_string(spooled.records.size())}});
    AccountingWriter::Config writer;
    writer.max_pending = opts.accounting_max_pending;
    writer.spool_path = spool;
    g.accounting = std::make_shared<AccountingWriter>(std::move(log), writer, std::move(spooled.records));
  }
  return g;
}

// Phase 2: bind first, so a port in use is reported before seconds of BPF loading.
Result<std::unique_ptr<WebServer>> bind_web(const Options& opts) {
  WebSettings web;
  web.addresses = opts.listen_addresses;
  web.systemd_socket = opts.systemd_socket;
  web.telemetry_path = opts.telemetry_path;
  web.gzip_level = opts.gzip_level;
  web.limits.max_connections = opts.max_connections;
  if (!opts.web_config_file.empty()) {
    auto config = load_web_config(opts.web_config_file);
    if (!config) return std::move(config).error();
    if (config->tls) {
      auto contexts = TlsContexts::create(*config->tls);
      if (!contexts) return std::move(contexts).error();
      std::shared_ptr<TlsContexts> shared(std::move(*contexts));
      web.tls = [shared] { return shared->current(); };
    }
    auto auth = std::make_shared<BasicAuth>(config->basic_auth_users);
    if (auth->enabled()) web.authorize = [auth](std::string_view header) { return auth->allows(header); };
    web.headers = config->headers;
    log::info("web config loaded", {{"file", opts.web_config_file},
                                    {"tls", config->tls ? "on" : "off"},
                                    {"basic_auth_users", std::to_string(config->basic_auth_users.size())}});
  }
  return WebServer::start(std::move(web));
}

// Join with commas: "127.0.0.1:10120,[::1]:10120".
std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

// The name of each map in use, per enum cgio_map_id (empty: not in use),
// for the loss counters' labels and log lines.
std::vector<std::string> used_map_names(const EnabledDomains& domains, bool hybrid) {
  std::vector<std::string> names(CGIO_MAP_MAX);
  for (const CounterDomainSpec& d : counter_domains()) {
    if (domains[index_of(d.id)]) names[d.lost_map_id] = d.name;
  }
  if (hybrid) names[CGIO_MAP_V1_UNITS] = "v1_units";
  return names;
}

// Phase 3: the maps, the programs counting into them, and the tracking of
// cgroups. Members are destroyed bottom-up: the programs detach first, then
// the event reader stops, then the tracker, the store and the maps go.
struct Counting {
  std::optional<PinDir> pins;  // locked for the process's life
  CounterMaps maps;
  std::unique_ptr<StateJournal> journal;  // with pins
  std::unique_ptr<Tracefs> tracefs;
  MetricTables tables;  // per domain, for the collectors and the accounting records
  std::unique_ptr<BpfCounterStore> store;
  std::shared_ptr<const CgroupSpace> space;
  std::shared_ptr<CgroupTracker> tracker;
  std::array<std::shared_ptr<PerCpuHashSource>, kCounterDomains> sources;  // null for domains not enabled
  std::unique_ptr<CgroupEventReader> reader;
  unsigned possible_cpus = 1;
  size_t operations_counted = 0;
  size_t probe_type_operations = 0;  // of those, counted by the chosen probe type's own hooks
  bool cgroup_events = false;
  LoadedPrograms programs;
};

// With pinned maps: the tracker takes what the previous process journalled
// (totals of ended cgroups, running instances, units whose records may not
// be written), and journals from here on.
Result<void> start_journal(const Options& opts, Counting& c, bool maps_new, bool accounting,
                           const std::function<void(const EndedUnit&)>& record_unit) {
  auto boot_id = read_boot_id(opts.procfs);
  if (!boot_id) return boot_id.error();
  auto opened = StateJournal::open(opts.state_file, *boot_id, c.maps.kernel_id(SharedMap::generation));
  if (!opened) return opened.error().context("cannot open --bpf.state-file");
  c.journal = std::move(opened->journal);
  if (opened->state) {
    RestoredState& st = *opened->state;
    log::info("tracker state restored", {{"file", opts.state_file},
                                         {"series", std::to_string(st.series.size())},
                                         {"units_ended_since_snapshot", std::to_string(st.ended_units.size())},
                                         {"lines", std::to_string(st.lines)},
                                         {"unreadable_lines", std::to_string(st.unreadable)}});
    std::vector<EndedUnit> ended = std::move(st.ended_units);
    c.tracker->restore(std::move(st), [space = c.space](uint64_t id) { return space->resolve(id).has_value(); });
    // Records the previous process may not have written: the file keeps
    // one per unit, so those it has are skipped.
    for (const EndedUnit& u : ended) record_unit(u);
  } else if (!maps_new) {
    log::warn("pinned counters adopted, but not the totals of cgroups that ended before (state file not taken)",
              {{"file", opts.state_file}, {"why", opened->why.empty() ? "missing" : opened->why}});
  }
  if (auto r = c.journal->snapshot(c.tracker->state(), accounting); !r) {
    log::error("cannot write the state journal", {{"err", r.error()}});
  }
  c.tracker->set_journal(c.journal.get());
  return {};
}

Result<std::unique_ptr<Counting>> start_counting(const Options& opts, Gathered& g) {
  auto c = std::make_unique<Counting>();
  CounterMapsConfig map_config;
  map_config.domains = g.domains;
  map_config.max_entries = opts.map_entries;
  map_config.preallocate = !g.kernel.btf->has_type("bpf_mem_alloc", BTF_KIND_STRUCT);
  if (!opts.pin_path.empty()) {
    auto pins = PinDir::open(opts.pin_path);
    if (!pins) return pins.error();
    c->pins = std::move(pins.value());
  }
  auto maps = CounterMaps::create(map_config, c->pins ? &*c->pins : nullptr);
  if (!maps) return maps.error().context("cannot create counter maps");
  c->maps = std::move(maps.value());
  bool maps_new = true;
  for (const SharedMapSpec& m : shared_maps()) maps_new = maps_new && !c->maps.adopted(m.id);
  // The programs of the previous process (pinned) count until this one's
  // are attached; then one store hands over (contracts/common.h).
  const uint32_t previous_generation = c->maps.active_generation();
  g.bpf_config.generation = previous_generation + 1 == 0 ? 1 : previous_generation + 1;
  if (c->pins) {
    PinnedSettings settings;
    settings.cgroup_keys = g.bpf_config.cgroup_keys;
    settings.v1_hierarchy_id = g.bpf_config.v1_hierarchy_id;
    settings.mount_count = static_cast<uint32_t>(g.mount_devs.size());
    std::copy(g.mount_devs.begin(), g.mount_devs.end(), settings.mount_devs.begin());
    if (auto ok = c->pins->check_settings(settings, maps_new); !ok) return ok.error();
    for (uint32_t gen : c->pins->link_generations()) {
      // Left by a start that died before its switch: never counted.
      if (gen != previous_generation) (void)c->pins->remove_links(gen);
    }
    log::info("BPF state pinned", {{"path", c->pins->dir()},
                                   {"maps", maps_new ? "new" : "adopted"},
                                   {"previous_generation", std::to_string(previous_generation)},
                                   {"generation", std::to_string(g.bpf_config.generation)}});
  }
  if (g.domains[index_of(CounterDomain::vfs_mounts)]) {
    if (auto filled = c->maps.set_mount_indexes(g.mount_devs); !filled) return filled.error();
  }

  c->space = std::make_shared<const CgroupSpace>(g.choice.space());
  c->tracefs = std::make_unique<Tracefs>(opts.procfs);
  {
    AttachProber prober(*c->tracefs);
    KernelFacts facts = kernel_facts(g.kernel);
    facts.probe = [&prober](ProbeType type, std::string_view target) { return prober.probe(type, target); };
    // The cgroup events attach first: a cgroup removed once anything counts
    // its I/O has a removal event, so no counted byte is left without a
    // name or put into a record of zero. (They are not a counted operation:
    // a forced probe type does not apply.)
    auto plan = make_plan(operations(ProgramGroup::cgroup_events), catalogue(), facts, std::nullopt);
    for (auto& p : make_plan(wanted_operations(opts), catalogue(), facts, opts.probe_type)) {
      plan.push_back(std::move(p));
    }
    LibbpfObjectLoader loader(c->maps.fds(), g.bpf_config, *c->tracefs, opts.btf_path);
    // Jobs running now are charged as jobs from the first event counted.
    if (c->space->hybrid()) {
      BpfV1Units units(c->maps.fd(SharedMap::v1_units));
      CgroupEventReader::mark_v1_units(*c->space, *g.classifier, units);
    }
    c->programs = load_programs(plan, loader);
  }
  if (c->pins) {
    if (auto pinned = c->programs.pin_links(c->pins->links_dir(g.bpf_config.generation)); !pinned) {
      log::error("the programs cannot be pinned: counting stops with this process", {{"err", pinned.error()}});
    }
  }
  // The kernel BTF parsed for planning and probing (and the prober's, gone
  // with it above) is tens of MB the exporter does not need once the
  // programs are loaded.
  g.kernel.btf.reset();
  malloc_trim(0);  // give those pages back rather than keep them in the heap
  for (const OperationStatus& s : c->programs.operations) {
    if (s.group == ProgramGroup::cgroup_events) {
      c->cgroup_events = s.attached;
    } else if (s.attached) {
      ++c->operations_counted;
      // io_uring's tracepoint alone (it serves every probe type) is not an
      // exporter worth starting: the syscalls would all go uncounted.
      if (!s.chosen->every_probe_type) ++c->probe_type_operations;
    }
  }
  if (c->probe_type_operations == 0) {
    return Error{"no BPF program could be loaded and attached; nothing to count (probe type " +
                 std::string(opts.probe_type ? to_string(*opts.probe_type) : "auto") + ")"};
  }
  // The handover: from this store on, this process's programs count and the
  // previous ones do nothing; then they are unpinned and detach.
  if (auto switched = c->maps.set_active_generation(g.bpf_config.generation); !switched) return switched.error();
  if (c->pins && previous_generation != 0) {
    if (auto removed = c->pins->remove_links(previous_generation); !removed) {
      log::warn("the previous programs could not be unpinned (they no longer count)", {{"err", removed.error()}});
    }
  }
  if (!c->cgroup_events) {
    log::warn("cgroup events unavailable: removed cgroups are found by walking the hierarchy every 2s");
  }

  const unsigned ncpus = c->possible_cpus = static_cast<unsigned>(libbpf_num_possible_cpus());
  const uint32_t mount_slots = static_cast<uint32_t>(g.mount_devs.size() + 1);
  std::array<size_t, kCounterDomains> widths{};
  for (const CounterDomainSpec& d : counter_domains()) {
    if (!g.domains[index_of(d.id)]) continue;
    widths[index_of(d.id)] = d.width(mount_slots);
    c->sources[index_of(d.id)] =
        std::make_shared<PerCpuHashSource>(c->maps.fd(d.map), d.fields, ncpus, true, d.two_part_key());
  }
  c->tables = metric_tables(g.domains, opts.mountpoints);
  c->store = std::make_unique<BpfCounterStore>(c->maps.fds(), ncpus, mount_slots);
  const auto record_unit = [log = g.accounting_log, writer = g.accounting, tables = &c->tables](const EndedUnit& u) {
    log::debug("unit ended",
               {{"workload", u.key.workload}, {"workload_id", u.key.workload_id}, {"cgroup", u.key.cgroup}});
    if (!writer) return;
    // Formatted here, written by the writer's thread: this is the
    // thread reading cgroup events, which must not wait for a disk.
    auto line = log->line(to_record(u, *tables));
    if (!line) {
      log::error("cannot make accounting record", {{"err", line.error()}, {"cgroup", u.key.cgroup}});
      return;
    }
    writer->submit(std::move(line.value()));
  };
  c->tracker = std::make_shared<CgroupTracker>(
      std::move(*g.classifier), opts.retain_ended, *c->store, widths, [] { return std::chrono::system_clock::now(); },
      record_unit);

  c->tracker->set_info(std::make_shared<const WorkloadInfo>(WorkloadInfoRoots{}),
                       [space = c->space](uint64_t key, const std::string& path) { return space->dir_of(key, path); });

  if (c->pins) {
    if (auto r = start_journal(opts, *c, maps_new, g.accounting != nullptr, record_unit); !r) return r.error();
  }

  CgroupEventReader::Config events;
  events.ringbuf_fd = c->cgroup_events ? c->maps.fd(SharedMap::cgroup_events) : -1;
  events.lost_fd = c->maps.fd(SharedMap::events_lost);
  events.possible_cpus = ncpus;
  if (c->space->hybrid()) events.v1_units = std::make_shared<BpfV1Units>(c->maps.fd(SharedMap::v1_units));
  events.reconcile_every = c->cgroup_events ? std::chrono::seconds(60) : std::chrono::seconds(2);
  events.ids_in_maps = [sources = c->sources] {
    std::vector<uint64_t> ids;
    for (const auto& source : sources) {
      if (!source) continue;
      if (auto snap = source->read()) ids.insert(ids.end(), snap->keys.begin(), snap->keys.end());
    }
    return ids;
  };
  events.tick = [lost =
                     std::make_shared<LostUpdateLog>(used_map_names(g.domains, c->space->hybrid()), opts.map_entries),
                 fd = c->maps.fd(SharedMap::map_full), ncpus, journal = c->journal.get(), tracker = c->tracker.get(),
                 writer = g.accounting] {
    if (auto slots = read_percpu_array(fd, CGIO_LOST_SLOTS, ncpus)) lost->check(*slots);
    if (journal != nullptr && journal->wants_snapshot()) {
      // Units whose records are still queued stay in the journal.
      const bool keep_ended = writer && writer->stats().pending > 0;
      if (auto r = journal->snapshot(tracker->state(), keep_ended); !r) {
        log::error("cannot replace the state journal with a snapshot", {{"err", r.error()}});
      }
    }
  };
  c->reader = std::make_unique<CgroupEventReader>(events, *c->space, *c->tracker);
  return c;
}

// Phase 4: what a scrape runs, over what counting made.
std::shared_ptr<Scraper> start_serving(const Gathered& g, const Counting& c) {
  std::function<AccountingWriter::Stats()> accounting;
  if (g.accounting) accounting = [writer = g.accounting] { return writer->stats(); };
  auto scraper = std::make_shared<Scraper>();
  for (const CounterDomainSpec& d : counter_domains()) {
    if (!g.domains[index_of(d.id)]) continue;
    scraper->add(std::make_shared<CgroupCountersCollector>(std::string(d.name), d.id, c.tables[index_of(d.id)],
                                                           c.sources[index_of(d.id)], c.tracker, c.space));
  }
  const std::vector<std::string> map_names = used_map_names(g.domains, c.space->hybrid());
  const int map_full_fd = c.maps.fd(SharedMap::map_full);
  const unsigned ncpus = c.possible_cpus;
  scraper->add("bpf",
               std::make_shared<BpfStatusCollector>(
                   g.kernel.release, status_rows(c.programs),
                   [map_full_fd, ncpus] { return read_percpu_array(map_full_fd, CGIO_LOST_SLOTS, ncpus); }, map_names));
  const CgroupEventReader* reader = c.reader.get();
  scraper->add("cgroups", std::make_shared<TrackingStatusCollector>(
                              c.tracker,
                              c.cgroup_events ? std::function<uint64_t()>([reader] { return reader->events_lost(); })
                                              : std::function<uint64_t()>(),
                              std::move(accounting)));
  return scraper;
}

// A running exporter. Members are destroyed bottom-up: the web server
// first, so no scrape runs while programs, links and maps close.
struct Exporter {
  Gathered gathered;
  std::unique_ptr<Counting> counting;
  std::shared_ptr<Scraper> scraper;
  std::unique_ptr<WebServer> web;
};

// Phase 5: returns the signal that asked the exporter to stop.
int wait_for_stop() {
  const sigset_t stop = stop_signals();
  int sig = 0;
  sigwait(&stop, &sig);
  return sig;
}

}  // namespace

sigset_t stop_signals() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  return stop;
}

int run(const Options& opts) {
  log::set_level(opts.log_level);
  install_libbpf_logging();
  log::info("starting cgio_exporter", {{"version", version_string()}});

  const auto failed = [](const Error& e) {
    log::error(e.message);
    return exit_status(e);
  };
  auto gathered = gather(opts);
  if (!gathered) return failed(gathered.error());
  auto web = bind_web(opts);
  if (!web) return failed(web.error());
  auto counting = start_counting(opts, *gathered);
  if (!counting) return failed(counting.error());
  {
    Exporter e{std::move(gathered.value()), std::move(counting.value()), nullptr, std::move(web.value())};
    e.scraper = start_serving(e.gathered, *e.counting);
    if (!opts.disable_exporter_metrics) {
      e.scraper->add("process", std::make_shared<ProcessCollector>(opts.procfs));
      e.scraper->add("web", std::make_shared<WebStatusCollector>([web = e.web.get()] { return web->stats(); }));
    }
    e.web->serve([scraper = e.scraper](ExpositionWriter& out) { return scraper->write(out); });
    // Everything that needs privilege is done: programs attached, links
    // pinned, maps and the event ring open, the port bound.
    if (auto dropped = drop_unneeded_capabilities(opts.capabilities_keep, e.gathered.kernel.version, opts.procfs);
        !dropped) {
      return failed(dropped.error());
    }
    const std::string counted =
        std::to_string(e.counting->operations_counted) + "/" + std::to_string(wanted_operations(opts).size());
    log::info("ready", {{"address", joined(e.web->bound())},
                        {"port", std::to_string(e.web->port())},
                        {"telemetry_path", opts.telemetry_path},
                        {"operations_counted", counted}});
    // Type=notify units start their dependents now (a no-op elsewhere).
    sd_notify(0, "READY=1");
    const int sig = wait_for_stop();
    log::info("shutting down", {{"signal", strsignal(sig)}});
    sd_notify(0, "STOPPING=1");
    // Scrapes in progress finish (bounded) before the maps close.
    e.web->shutdown();
  }
  if (opts.pin_path.empty()) {
    log::info("stopped; BPF programs detached");
  } else {
    log::info("stopped; the pinned BPF programs count on for the next start (cgio_exporter --bpf.unpin removes them)",
              {{"pin_path", opts.pin_path}});
  }
  return 0;
}

}  // namespace cgio
