// Names and HELP texts of the per-cgroup counters. The names are a contract
// with dashboards and users; the HELP says exactly what is counted.
#include "collectors/cgroup_counters.h"

#include "contracts/net.h"
#include "contracts/vfs.h"

namespace cgio {
namespace {

MetricSpec single(std::string name, std::string help, size_t counter) {
  return {std::move(name), std::move(help), {{{}, counter}}};
}

constexpr const char* kPseudoFsNote =
    " Files on kernel pseudo filesystems (proc, sysfs, cgroup, debugfs, tracefs, bpf, devpts, "
    "...) are excluded unless --vfs.include-pseudo-fs is set.";

}  // namespace

std::vector<MetricSpec> vfs_metrics(bool with_read_write) {
  const std::string reads = "read, pread64, readv, preadv and preadv2 calls on regular files";
  const std::string writes = "write, pwrite64, writev, pwritev and pwritev2 calls on regular files";
  const std::string opens = "open, openat, openat2 and creat calls";
  std::vector<MetricSpec> all = {
      single("cgio_vfs_reads_total", "Number of " + reads + "." + kPseudoFsNote, CGIO_VFS_READS),
      single("cgio_vfs_read_bytes_total",
             "Bytes read by " + reads + " (sum of positive return values)." + kPseudoFsNote, CGIO_VFS_READ_BYTES),
      single("cgio_vfs_read_errors_total", "Number of " + reads + " that returned an error." + kPseudoFsNote,
             CGIO_VFS_READ_ERRORS),
      single("cgio_vfs_writes_total", "Number of " + writes + "." + kPseudoFsNote, CGIO_VFS_WRITES),
      single("cgio_vfs_write_bytes_total",
             "Bytes written by " + writes + " (sum of positive return values)." + kPseudoFsNote, CGIO_VFS_WRITE_BYTES),
      single("cgio_vfs_write_errors_total", "Number of " + writes + " that returned an error." + kPseudoFsNote,
             CGIO_VFS_WRITE_ERRORS),
      single("cgio_vfs_opens_total", "Number of " + opens + ", successful or not, including those that created a file.",
             CGIO_VFS_OPENS),
      single("cgio_vfs_open_errors_total", "Number of " + opens + " that returned an error.", CGIO_VFS_OPEN_ERRORS),
      single("cgio_vfs_creates_total",
             "Number of opens that created a new regular file (O_CREAT or creat on a path that "
             "did not exist).",
             CGIO_VFS_CREATES),
      single("cgio_vfs_create_errors_total", "Number of opens with O_CREAT, and creat calls, that returned an error.",
             CGIO_VFS_CREATE_ERRORS),
      single("cgio_vfs_unlinks_total", "Number of unlink calls and unlinkat calls without AT_REMOVEDIR.",
             CGIO_VFS_UNLINKS),
      single("cgio_vfs_unlink_errors_total",
             "Number of unlink calls and unlinkat calls without AT_REMOVEDIR that returned an error.",
             CGIO_VFS_UNLINK_ERRORS),
      single("cgio_vfs_mkdirs_total", "Number of mkdir and mkdirat calls.", CGIO_VFS_MKDIRS),
      single("cgio_vfs_mkdir_errors_total", "Number of mkdir and mkdirat calls that returned an error.",
             CGIO_VFS_MKDIR_ERRORS),
      single("cgio_vfs_rmdirs_total", "Number of rmdir calls and unlinkat calls with AT_REMOVEDIR.", CGIO_VFS_RMDIRS),
      single("cgio_vfs_rmdir_errors_total",
             "Number of rmdir calls and unlinkat calls with AT_REMOVEDIR that returned an error.",
             CGIO_VFS_RMDIR_ERRORS),
      single("cgio_vfs_mmap_pagein_bytes_total",
             "Bytes of regular files brought into the page cache by this cgroup's page faults on file mappings "
             "(whole folios, readahead included; a mapped page already cached adds nothing).",
             CGIO_VFS_MMAP_PAGEIN_BYTES),
      single("cgio_vfs_mmap_dirtied_bytes_total",
             "Bytes of regular files' page cache made dirty by this cgroup's stores through shared file mappings "
             "(whole folios, each time a clean folio becomes dirty: what writeback will write).",
             CGIO_VFS_MMAP_DIRTIED_BYTES),
  };
  if (!with_read_write) all.erase(all.begin(), all.begin() + CGIO_VFS_OPENS);
  return all;
}

std::vector<MetricSpec> vfs_mount_metrics(const std::vector<std::string>& mountpoints) {
  std::vector<MetricSpec> rw = vfs_metrics(true);
  rw.resize(CGIO_VFS_OPENS);
  for (MetricSpec& m : rw) {
    const size_t counter = m.series.front().counter;
    m.help +=
        " By the filesystem the file is on: mountpoint is the listed mount point "
        "(--vfs.mountpoints) of that filesystem, or \"other\".";
    m.series.clear();
    for (size_t i = 0; i <= mountpoints.size(); ++i) {
      m.series.push_back(
          {{{"mountpoint", i == CGIO_MOUNT_OTHER ? "other" : mountpoints[i - 1]}}, i * CGIO_VFS_OPENS + counter});
    }
  }
  return rw;
}

std::vector<MetricSpec> net_metrics() {
  constexpr size_t kCounters = CGIO_NET_COUNTER_MAX;
  constexpr size_t kFamilies = CGIO_NET_FAMILY_MAX;
  const auto per_socket_kind = [&](size_t counter) {
    std::vector<SeriesSpec> series;
    const std::pair<const char*, size_t> families[] = {{"ipv4", CGIO_NET_IPV4}, {"ipv6", CGIO_NET_IPV6}};
    const std::pair<const char*, size_t> protocols[] = {{"tcp", CGIO_NET_TCP}, {"udp", CGIO_NET_UDP}};
    for (const auto& [family, fi] : families) {
      for (const auto& [protocol, pi] : protocols) {
        series.push_back({{{"family", family}, {"protocol", protocol}}, (pi * kFamilies + fi) * kCounters + counter});
      }
    }
    return series;
  };
  const std::string scope =
      " on TCP and UDP sockets (IPv4, and IPv6 including IPv4-mapped addresses), by protocol and "
      "address family.";
  return {
      {"cgio_net_sent_bytes_total", "Bytes sent (sum of positive results of send calls)" + scope,
       per_socket_kind(CGIO_NET_SENT_BYTES)},
      {"cgio_net_sends_total", "Number of send calls, successful or not (sendmmsg counts each message)" + scope,
       per_socket_kind(CGIO_NET_SENDS)},
      {"cgio_net_received_bytes_total", "Bytes received (sum of positive results of receive calls)" + scope,
       per_socket_kind(CGIO_NET_RECEIVED_BYTES)},
      {"cgio_net_receives_total", "Number of receive calls, successful or not (recvmmsg counts each message)" + scope,
       per_socket_kind(CGIO_NET_RECEIVES)},
  };
}

MetricTables metric_tables(const EnabledDomains& enabled, const std::vector<std::string>& mountpoints) {
  MetricTables tables;
  for (const CounterDomainSpec& d : counter_domains()) {
    if (!enabled[index_of(d.id)]) continue;
    switch (d.id) {
      case CounterDomain::vfs:
        tables[index_of(d.id)] = vfs_metrics(!enabled[index_of(CounterDomain::vfs_mounts)]);
        break;
      case CounterDomain::net:
        tables[index_of(d.id)] = net_metrics();
        break;
      case CounterDomain::vfs_mounts:
        tables[index_of(d.id)] = vfs_mount_metrics(mountpoints);
        break;
    }
  }
  return tables;
}

}  // namespace cgio
