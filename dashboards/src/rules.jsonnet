// cgio's Prometheus rules: per-unit recording rules (the table in
// metrics.libsonnet) and the alerts an operator wants. Rendered to
// dashboards/rules/cgio.rules.yml by dashboards/generate.sh.
local metrics = import 'metrics.libsonnet';

local by(labels, q) = labels + q.by;
// The unit kind "cgroup" (cgroups no layout recognises, each its own unit)
// is left out: they are per node, not jobs.
local units = '{workload!="cgroup"}';
local unit = ['workload', 'workload_id'];
local node_unit = ['job', 'instance'] + unit;

local recording(q) = [
  {
    // A unit's counters on one node, summed over its cgroups, steps and
    // mount points: the basis of exact job totals, also once the unit's own
    // series are gone (sum(max_over_time(...[range])) over its nodes).
    record: 'instance_workload:cgio_%s:sum' % q.name,
    expr: std.join(' + ', ['sum by (%s) (%s%s)' % [std.join(', ', by(node_unit, q)), metric, units] for metric in q.metrics]),
  },
  {
    // The unit's total across every node it runs on.
    record: 'workload:cgio_%s:sum' % q.name,
    expr: 'sum by (%s) (instance_workload:cgio_%s:sum)' % [std.join(', ', by(unit, q)), q.name],
  },
  {
    record: 'workload:cgio_%s:rate5m' % q.name,
    expr: metrics.sumOf(q, by(unit, q), units),
  },
  {
    // Per user, where cgio_workload_info names one (Slurm jobs).
    record: 'user:cgio_%s:rate5m' % q.name,
    expr: |||
      sum by (%s) (
        (%s)
        * on (job, instance, workload, workload_id) group_left (user)
        max by (job, instance, workload, workload_id, user) (cgio_workload_info{user!=""})
      )
    ||| % [std.join(', ', by(['user'], q)), metrics.sumOf(q, by(node_unit, q), units)],
  },
];

local alert(name, expr, severity, summary, description, runbook, for_='') = {
  alert: name,
  expr: expr,
  [if for_ != '' then 'for']: for_,
  labels: { severity: severity },
  annotations: { summary: summary, description: description, runbook: runbook },
};

{
  groups: [
    {
      name: 'cgio-units',
      rules: std.flattenArrays([recording(q) for q in metrics.quantities]),
    },
    {
      name: 'cgio-alerts',
      rules: [
        alert(
          'CgioExporterDown',
          'up == 0 and on (job, instance) max_over_time(cgio_build_info[1d])',
          'critical',
          'cgio on {{ $labels.instance }} does not answer scrapes',
          'Prometheus cannot scrape the cgio exporter on {{ $labels.instance }} (job {{ $labels.job }}); it did within the last day.',
          'Check the service (systemctl status cgio-exporter) and its log. The pinned programs keep counting while it is down: I/O is not lost if it restarts before the node reboots.',
          '5m',
        ),
        alert(
          'CgioOperationNotCounted',
          'cgio_bpf_program_attached == 0',
          'warning',
          '{{ $labels.program }} is not counted on {{ $labels.instance }}',
          'No BPF program of any probe type could be attached for {{ $labels.program }}: its counters stay at zero on this node.',
          'cgio_bpf_program_status{program="{{ $labels.program }}"} and the start-up log give the reason; cgio_exporter --print-plan shows what this kernel allows.',
          '10m',
        ),
        alert(
          'CgioMapFull',
          'increase(cgio_bpf_map_full_total[5m]) > 0',
          'critical',
          'counter map {{ $labels.map }} is full on {{ $labels.instance }}: I/O is being lost',
          '{{ $value }} counter updates were lost in 5 minutes because the map holds --bpf.map-entries cgroups.',
          'Raise --bpf.map-entries (README, Memory; the restart adopts no pins of another size: cgio_exporter --bpf.unpin first).',
        ),
        alert(
          'CgioMapNearlyFull',
          'cgio_bpf_map_entries / on (job, instance, map) cgio_bpf_map_capacity > 0.9',
          'warning',
          'counter map {{ $labels.map }} on {{ $labels.instance }} is over 90% full',
          'Once it is full, new cgroups\' I/O is lost (and counted in cgio_bpf_map_full_total).',
          'Raise --bpf.map-entries before it fills, or find what creates so many cgroups at once.',
          '15m',
        ),
        alert(
          'CgioMapUpdateFailures',
          'increase(cgio_bpf_map_update_failures_total[5m]) > 0',
          'warning',
          'the kernel refused counter entries on {{ $labels.instance }} ({{ $labels.reason }})',
          '{{ $value }} counter updates of map {{ $labels.map }} were lost in 5 minutes for a reason other than a full map.',
          'reason=nomem: the node is short of kernel memory; busy: contention on the map; the exporter log has details.',
        ),
        alert(
          'CgioProgramMisses',
          'increase(cgio_bpf_program_misses_total[10m]) > 0',
          'warning',
          'the kernel skipped cgio programs on {{ $labels.instance }}',
          '{{ $value }} runs of {{ $labels.program }} were skipped in 10 minutes because another BPF program was running on the same CPU: counts are low by as many operations.',
          'Find the other tracing tool attached to the same hooks (bpftool prog list) and stop it, or run cgio with another --bpf.probe-type.',
        ),
        alert(
          'CgioCgroupEventsLost',
          'increase(cgio_cgroup_events_lost_total[10m]) > 0',
          'info',
          'cgroup events overflowed on {{ $labels.instance }}',
          'Cgroup creation or removal events did not fit in the ring; the exporter walked the hierarchy to catch up.',
          'Nothing is lost from counters; accounting records of units that ended meanwhile may carry "ended_after". Frequent: the node creates cgroups faster than the exporter reads them.',
        ),
        alert(
          'CgioScrapeErrors',
          'increase(cgio_scrape_errors_total[10m]) > 0',
          'warning',
          'collector {{ $labels.collector }} fails on {{ $labels.instance }}',
          'In {{ $value }} scrapes in 10 minutes the collector reported nothing (the others still did).',
          'The exporter log has a "collector failed" line with the error.',
        ),
        alert(
          'CgioAccountingRecordsDropped',
          'increase(cgio_accounting_records_dropped_total[1h]) > 0',
          'critical',
          'accounting records were dropped on {{ $labels.instance }}',
          '{{ $value }} ended units have no record in the accounting file: more than --accounting.max-pending were waiting.',
          'Each dropped record is in the exporter log whole: recover it from there. Fix what stops the file being written (cgio_accounting_last_error_timestamp_seconds names the error).',
        ),
        alert(
          'CgioAccountingWriteErrors',
          'increase(cgio_accounting_write_errors_total[10m]) > 0',
          'warning',
          'the accounting file cannot be written on {{ $labels.instance }}',
          'Records are kept and retried (cgio_accounting_records_pending), until --accounting.max-pending.',
          'cgio_accounting_last_error_timestamp_seconds{error} names the error (disk full, read-only filesystem): free space or remount.',
        ),
        alert(
          'CgioUnresolvedCgroups',
          'cgio_unresolved_cgroups > 0',
          'info',
          'cgio counts I/O it cannot attribute on {{ $labels.instance }}',
          '{{ $value }} cgroup ids in the {{ $labels.collector }} map have no known cgroup; their I/O is under cgroup="unresolved".',
          'Usually cgroups outside --path.cgroup2 (a container runtime with its own cgroup namespace): check the exporter sees the host hierarchy.',
          '30m',
        ),
      ],
    },
  ],
}
