// The per-unit quantities the recording rules keep (rules.jsonnet) and the
// dashboards read: `metrics` are the counters each adds up (cgio exports
// every counter of a table for every series, so each is there), `by` the
// labels kept beside the unit's.
local m(name, metrics, unit, by=[]) = { name: name, metrics: metrics, unit: unit, by: by };
{
  quantities: [
    m('vfs_read_bytes', ['cgio_vfs_read_bytes_total'], 'bytes'),
    m('vfs_write_bytes', ['cgio_vfs_write_bytes_total'], 'bytes'),
    m('vfs_reads', ['cgio_vfs_reads_total'], 'short'),
    m('vfs_writes', ['cgio_vfs_writes_total'], 'short'),
    m('vfs_opens', ['cgio_vfs_opens_total'], 'short'),
    // what loads a parallel filesystem's metadata servers
    m('vfs_metadata_ops', ['cgio_vfs_%s_total' % op for op in ['creates', 'unlinks', 'mkdirs', 'rmdirs']], 'short'),
    m('vfs_errors', ['cgio_vfs_%s_errors_total' % op for op in ['read', 'write', 'open', 'create', 'unlink', 'mkdir', 'rmdir']], 'short'),
    m('net_sent_bytes', ['cgio_net_sent_bytes_total'], 'bytes', ['protocol', 'family']),
    m('net_received_bytes', ['cgio_net_received_bytes_total'], 'bytes', ['protocol', 'family']),
    m('net_sends', ['cgio_net_sends_total'], 'short', ['protocol', 'family']),
    m('net_receives', ['cgio_net_receives_total'], 'short', ['protocol', 'family']),
  ],
  // sum by (<by>) (<fn>(<metric><selector>[<range>])), added up over the
  // quantity's counters. One function call per counter: rate() over a
  // __name__ regex would give several series the same labels once it drops
  // the names, which PromQL refuses.
  sumOf(q, by, selector, fn='rate', range='5m')::
    std.join(' + ', [
      'sum by (%s) (%s(%s%s[%s]))' % [std.join(', ', by), fn, metric, selector, range]
      for metric in q.metrics
    ]),
  byName: { [q.name]: q for q in self.quantities },
}
