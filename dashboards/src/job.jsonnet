// Job: one unit (Slurm job, pod, container, VM, service) across every node
// it ran on. Totals come from the recording rules (dashboards/rules), so an
// ended job keeps its numbers for as long as Prometheus keeps those series,
// after its own series are gone.
local g = import 'lib.libsonnet';
local metrics = import 'metrics.libsonnet';
local unit = 'workload="$workload", workload_id="$workload_id"';
local s(extra='') = g.sel(unit + (if extra == '' then '' else ', ' + extra), instance=false);
local rate(metric, extra='') = 'rate(%s%s[$__rate_interval])' % [metric, s(extra)];
// The job's total over the time range: each node's last (largest) value
// of the per-node recording rule, added up over nodes.
local total(name, by='') =
  'sum%s (max_over_time(instance_workload:cgio_%s:sum%s[$__range]))' %
  [if by == '' then '' else ' by (%s)' % by, name, s()];
local unitOf = { [q.name]: q.unit for q in metrics.quantities };
local perNode(name) = metrics.sumOf(metrics.byName[name], ['instance'], s(), range='$__rate_interval');

g.dashboard(
  'cgio-job',
  'cgio / Job',
  'One Slurm job, pod, container, VM or service across every node it ran on: totals over the time range and rates per node.',
  [
    g.variables.datasource,
    g.variables.job,
    g.variables.query('workload', 'Workload', 'label_values(instance_workload:cgio_vfs_opens:sum{job=~"$job"}, workload)', multi=false, all=false),
    g.variables.query('workload_id', 'Id', 'label_values(instance_workload:cgio_vfs_opens:sum{job=~"$job", workload="$workload"}, workload_id)', multi=false, all=false),
  ],
  [
    g.row('Totals over the time range'),
    g.table(
      'Names', 'short',
      [g.target('max by (user, uid, job_name, account, partition, namespace, pod, container, name) (max_over_time(cgio_workload_info%s[$__range]))' % s(), '', true, 'table')],
      'What the nodes know of the unit (cgio_workload_info): Slurm user, job name, account, partition; pod namespace and name; container name.',
    ) { width: 24, height: 4 },
  ] + [
    g.stat(title, unitOf[name], [g.target(total(name))]) { width: 3, height: 4 }
    for pair in [
      ['Read', 'vfs_read_bytes'],
      ['Written', 'vfs_write_bytes'],
      ['Read calls', 'vfs_reads'],
      ['Write calls', 'vfs_writes'],
      ['Opens', 'vfs_opens'],
      ['Metadata operations', 'vfs_metadata_ops'],
      ['Sent', 'net_sent_bytes'],
      ['Received', 'net_received_bytes'],
    ]
    for title in [pair[0]]
    for name in [pair[1]]
  ] + [
    g.table(
      'Per node', 'bytes',
      [
        g.target(total('vfs_read_bytes', 'instance'), '', true, 'table'),
        g.target(total('vfs_write_bytes', 'instance'), '', true, 'table'),
        g.target(total('net_sent_bytes', 'instance'), '', true, 'table'),
        g.target(total('net_received_bytes', 'instance'), '', true, 'table'),
      ],
      'Columns: read, written, sent, received (A, B, C, D).',
    ) { width: 12 },
    g.table(
      'Network by protocol and family', 'bytes',
      [
        g.target(total('net_sent_bytes', 'protocol, family'), '', true, 'table'),
        g.target(total('net_received_bytes', 'protocol, family'), '', true, 'table'),
      ],
      'Columns: sent, received (A, B).',
    ) { width: 12 },

    g.row('Rates per node'),
    g.timeseries(
      'File bytes', 'Bps',
      [
        g.target('sum by (instance) (%s)' % rate('cgio_vfs_read_bytes_total'), 'read {{instance}}'),
        g.target('sum by (instance) (%s)' % rate('cgio_vfs_write_bytes_total'), 'write {{instance}}'),
      ],
    ) { width: 12 },
    g.timeseries(
      'File operations', 'ops',
      [
        g.target('sum by (instance) (%s)' % rate('cgio_vfs_reads_total'), 'read {{instance}}'),
        g.target('sum by (instance) (%s)' % rate('cgio_vfs_writes_total'), 'write {{instance}}'),
        g.target('sum by (instance) (%s)' % rate('cgio_vfs_opens_total'), 'open {{instance}}'),
        g.target(perNode('vfs_metadata_ops'), 'metadata {{instance}}'),
      ],
    ) { width: 12 },
    g.timeseries(
      'Network bytes', 'Bps',
      [
        g.target('sum by (instance, protocol, family) (%s)' % rate('cgio_net_sent_bytes_total'), 'sent {{protocol}}/{{family}} {{instance}}'),
        g.target('sum by (instance, protocol, family) (%s)' % rate('cgio_net_received_bytes_total'), 'received {{protocol}}/{{family}} {{instance}}'),
      ],
    ) { width: 12 },
    g.timeseries(
      'Errors', 'ops',
      [g.target(perNode('vfs_errors'), '{{instance}}')],
    ) { width: 12 },
  ],
)
