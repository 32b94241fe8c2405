// Cluster: the busiest jobs and users, every node's totals, and the nodes
// whose exporter is unhealthy.
local g = import 'lib.libsonnet';
local s(extra='') = g.sel(extra, instance=false);

g.dashboard(
  'cgio-cluster',
  'cgio / Cluster',
  'Top jobs and users by I/O across the cluster, per-node totals, and nodes whose cgio exporter does not count everything.',
  [g.variables.datasource, g.variables.job, g.variables.topn],
  [
    g.row('Top jobs and users (top $topn)'),
    g.timeseries(
      'Jobs by file bytes', 'Bps',
      [g.target('topk($topn, sum by (workload, workload_id) ({__name__=~"workload:cgio_vfs_(read|write)_bytes:rate5m"}))', '{{workload}} {{workload_id}}')],
      'Read plus written, summed over every node (recording rules, 5 minute rate; all scrape jobs).',
    ) { width: 12 },
    g.table(
      'Jobs by file bytes over the time range', 'bytes',
      [g.target('topk($topn, sum by (workload, workload_id) (max_over_time(instance_workload:cgio_vfs_read_bytes:sum%s[$__range]) + max_over_time(instance_workload:cgio_vfs_write_bytes:sum%s[$__range])))' % [s(), s()], '', true, 'table')],
      'Read plus written by each unit, over every node it ran on, ended ones included.',
    ) { width: 12 },
    g.timeseries(
      'Jobs by metadata operations', 'ops',
      [g.target('topk($topn, sum by (workload, workload_id) ({__name__=~"workload:cgio_vfs_(metadata_ops|opens):rate5m"}))', '{{workload}} {{workload_id}}')],
      'Opens, creates, unlinks, mkdirs and rmdirs.',
    ) { width: 12 },
    g.timeseries(
      'Jobs by network bytes', 'Bps',
      [g.target('topk($topn, sum by (workload, workload_id) ({__name__=~"workload:cgio_net_(sent|received)_bytes:rate5m"}))', '{{workload}} {{workload_id}}')],
    ) { width: 12 },
    g.timeseries(
      'Users by file bytes', 'Bps',
      [g.target('topk($topn, sum by (user) ({__name__=~"user:cgio_vfs_(read|write)_bytes:rate5m"}))', '{{user}}')],
      'Units whose cgio_workload_info names a user (Slurm jobs).',
    ) { width: 12 },
    g.timeseries(
      'Users by network bytes', 'Bps',
      [g.target('topk($topn, sum by (user) ({__name__=~"user:cgio_net_(sent|received)_bytes:rate5m"}))', '{{user}}')],
    ) { width: 12 },

    g.row('Nodes'),
    g.timeseries(
      'File bytes per node', 'Bps',
      [
        g.target('sum by (instance) (rate(cgio_vfs_read_bytes_total%s[$__rate_interval]))' % s(), 'read {{instance}}'),
        g.target('sum by (instance) (rate(cgio_vfs_write_bytes_total%s[$__rate_interval]))' % s(), 'write {{instance}}'),
      ],
      'Every cgroup on the node, workloads or not.',
    ) { width: 12 },
    g.timeseries(
      'Network bytes per node', 'Bps',
      [
        g.target('sum by (instance) (rate(cgio_net_sent_bytes_total%s[$__rate_interval]))' % s(), 'sent {{instance}}'),
        g.target('sum by (instance) (rate(cgio_net_received_bytes_total%s[$__rate_interval]))' % s(), 'received {{instance}}'),
      ],
    ) { width: 12 },
    g.table(
      'Exporter health per node', 'short',
      [
        g.target('up' + s(), '', true, 'table'),
        g.target('sum by (job, instance) (1 - cgio_bpf_program_attached%s)' % s(), '', true, 'table'),
        g.target('sum by (job, instance) (increase(cgio_bpf_map_full_total%s[$__range])) + on (job, instance) sum by (job, instance) (increase(cgio_bpf_map_update_failures_total%s[$__range]))' % [s(), s()], '', true, 'table'),
        g.target('sum by (job, instance) (increase(cgio_scrape_errors_total%s[$__range]))' % s(), '', true, 'table'),
        g.target('sum by (job, instance) (cgio_unresolved_cgroups%s)' % s(), '', true, 'table'),
      ],
      'Columns: up (A), operations not counted (B), counter updates lost over the range (C), collector failures over the range (D), unresolved cgroups (E). Healthy: 1, 0, 0, 0, 0.',
    ) { width: 16, height: 10 },
    g.stat(
      'Unhealthy exporters', 'short',
      [g.target('count((up%s == 0) or on (job, instance) (sum by (job, instance) (1 - cgio_bpf_program_attached%s) > 0)) or vector(0)' % [s(), s()])],
      'Nodes whose exporter is down or does not count every operation.',
    ) { width: 8, height: 10 },
  ],
)
