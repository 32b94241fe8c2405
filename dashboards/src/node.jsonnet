// Node: what each workload on the picked nodes does to files and the
// network, and whether the exporter counts everything.
local g = import 'lib.libsonnet';
local metrics = import 'metrics.libsonnet';
local s = g.sel;
local rate(metric, extra='') = 'rate(%s%s[$__rate_interval])' % [metric, s(extra)];
local top(metric, extra='') =
  'topk($topn, sum by (instance, workload, workload_id) (%s))' % rate(metric, extra);
// The same for a quantity of several counters (metrics.libsonnet).
local topOf(name) =
  'topk($topn, %s)' % metrics.sumOf(metrics.byName[name], ['instance', 'workload', 'workload_id'], s(), range='$__rate_interval');
local unitLegend = '{{workload}} {{workload_id}} ({{instance}})';

g.dashboard(
  'cgio-node',
  'cgio / Node',
  'File and network I/O per workload (Slurm job, pod, container, VM, service) on the selected nodes, from the cgio exporter, and the exporter\'s own health.',
  [g.variables.datasource, g.variables.job, g.variables.instance, g.variables.topn],
  [
    g.row('File I/O by workload (top $topn)'),
    g.timeseries('Read bytes', 'Bps', [g.target(top('cgio_vfs_read_bytes_total'), unitLegend)]) { width: 12 },
    g.timeseries('Write bytes', 'Bps', [g.target(top('cgio_vfs_write_bytes_total'), unitLegend)]) { width: 12 },
    g.timeseries('Read calls', 'ops', [g.target(top('cgio_vfs_reads_total'), unitLegend)]),
    g.timeseries('Write calls', 'ops', [g.target(top('cgio_vfs_writes_total'), unitLegend)]),
    g.timeseries('Opens', 'ops', [g.target(top('cgio_vfs_opens_total'), unitLegend)]),
    g.timeseries(
      'Metadata operations', 'ops',
      [g.target(topOf('vfs_metadata_ops'), unitLegend)],
      'Creates, unlinks, mkdirs and rmdirs: the load on a parallel filesystem\'s metadata servers.',
    ),
    g.timeseries(
      'Errors', 'ops',
      [g.target(topOf('vfs_errors'), unitLegend)],
      'Failed reads, writes, opens, creates, unlinks, mkdirs and rmdirs.',
    ) { width: 16 },
    g.timeseries(
      'Bytes by filesystem', 'Bps',
      [
        g.target('sum by (instance, mountpoint) (%s)' % rate('cgio_vfs_read_bytes_total', 'mountpoint!=""'), 'read {{mountpoint}} ({{instance}})'),
        g.target('sum by (instance, mountpoint) (%s)' % rate('cgio_vfs_write_bytes_total', 'mountpoint!=""'), 'write {{mountpoint}} ({{instance}})'),
      ],
      'Per mount point listed in --vfs.mountpoints ("other": the rest); empty without that flag.',
    ),

    g.row('Network by workload (top $topn)'),
    g.timeseries('Sent bytes', 'Bps', [g.target(top('cgio_net_sent_bytes_total'), unitLegend)]),
    g.timeseries('Received bytes', 'Bps', [g.target(top('cgio_net_received_bytes_total'), unitLegend)]),
    g.timeseries(
      'By protocol and family', 'Bps',
      [
        g.target('sum by (protocol, family) (%s)' % rate('cgio_net_sent_bytes_total'), 'sent {{protocol}}/{{family}}'),
        g.target('sum by (protocol, family) (%s)' % rate('cgio_net_received_bytes_total'), 'received {{protocol}}/{{family}}'),
      ],
    ),

    g.row('Exporter health'),
    g.table(
      'Programs', 'short',
      [g.target('cgio_bpf_program_attached' + s(), '', true, 'table')],
      'Per operation: 1 when counted, with the probe type and kernel variant in use; 0 when not (cgio_bpf_program_status and the log say why).',
    ) { width: 12, height: 10 },
    g.stat(
      'Operations not counted', 'short',
      [g.target('sum(1 - cgio_bpf_program_attached%s)' % s())],
      'Operations for which no program could be attached on the selected nodes: should be 0.',
    ) { width: 4 },
    g.stat(
      'Counter updates lost', 'short',
      [g.target('sum(increase(cgio_bpf_map_full_total%s[$__range])) + sum(increase(cgio_bpf_map_update_failures_total%s[$__range]))' % [s(), s()])],
      'Lost because a counter map was full or the kernel refused an entry, over the time range: should be 0.',
    ) { width: 4 },
    g.stat(
      'Unresolved cgroups', 'short',
      [g.target('sum(cgio_unresolved_cgroups%s)' % s())],
      'Cgroup ids with counters whose cgroup cannot be found; their I/O is under cgroup="unresolved".',
    ) { width: 4 },
    g.timeseries(
      'Counter map fill', 'percentunit',
      [g.target('cgio_bpf_map_entries%s / on (job, instance, map) cgio_bpf_map_capacity%s' % [s(), s()], '{{map}} ({{instance}})')],
      'Entries over --bpf.map-entries: past 100%, new cgroups\' I/O is lost.',
    ),
    g.timeseries(
      'Losses', 'short',
      [
        g.target('sum by (instance, map) (increase(cgio_bpf_map_full_total%s[$__rate_interval]))' % s(), 'map full {{map}} ({{instance}})'),
        g.target('sum by (instance, map, reason) (increase(cgio_bpf_map_update_failures_total%s[$__rate_interval]))' % s(), 'refused {{map}} {{reason}} ({{instance}})'),
        g.target('sum by (instance, program) (increase(cgio_bpf_program_misses_total%s[$__rate_interval]))' % s(), 'missed {{program}} ({{instance}})'),
        g.target('sum by (instance) (increase(cgio_cgroup_events_lost_total%s[$__rate_interval]))' % s(), 'cgroup events lost ({{instance}})'),
      ],
      'Counter updates lost (full map, refused entries), program runs the kernel skipped, cgroup events that overflowed.',
    ),
    g.timeseries(
      'Scrape duration', 's',
      [
        g.target('cgio_scrape_duration_seconds' + s(), '{{collector}} ({{instance}})'),
        g.target('scrape_duration_seconds' + s(), 'whole scrape ({{instance}})'),
      ],
    ),
    g.timeseries(
      'Cgroups and units', 'short',
      [
        g.target('cgio_cgroups_tracked' + s(), 'cgroups tracked ({{instance}})'),
        g.target('cgio_units_retained' + s(), 'ended units still reported ({{instance}})'),
        g.target('sum by (instance) (cgio_bpf_map_entries%s)' % s(), 'map entries ({{instance}})'),
      ],
    ),
    g.timeseries(
      'Scrape errors', 'short',
      [g.target('sum by (instance, collector) (increase(cgio_scrape_errors_total%s[$__rate_interval]))' % s(), '{{collector}} ({{instance}})')],
      'Scrapes in which a collector failed and reported nothing.',
    ),
  ],
)
