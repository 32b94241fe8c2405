// Building blocks of cgio's Grafana dashboards (Grafana 10 and later,
// dashboard schema version 39). Every panel queries the dashboard's
// datasource variable; no job or instance label is written into a query.
{
  schemaVersion: 39,
  ds: { type: 'prometheus', uid: '${datasource}' },

  // The selector every query starts from: the scrape job(s) picked in the
  // `job` variable and, where the dashboard has one, the instances.
  sel(extra='', instance=true)::
    '{job=~"$job"' + (if instance then ', instance=~"$instance"' else '') +
    (if extra == '' then '' else ', ' + extra) + '}',

  variables: {
    datasource: {
      type: 'datasource',
      name: 'datasource',
      label: 'Data source',
      query: 'prometheus',
      current: {},
      hide: 0,
      refresh: 1,
      regex: '',
      options: [],
    },
    query(name, label, query, multi=true, all=true):: {
      type: 'query',
      name: name,
      label: label,
      datasource: $.ds,
      definition: query,
      query: { query: query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
      refresh: 2,  // on time range change: ended jobs come and go
      sort: 1,
      multi: multi,
      includeAll: all,
      [if all then 'allValue']: '.+',
      current: {},
      hide: 0,
      options: [],
      regex: '',
    },
    job: self.query('job', 'Job', 'label_values(cgio_build_info, job)'),
    instance: self.query('instance', 'Instance', 'label_values(cgio_build_info{job=~"$job"}, instance)'),
    topn: {
      type: 'custom',
      name: 'topn',
      label: 'Top',
      query: '5,10,20,50',
      current: { text: '10', value: '10' },
      options: [
        { text: v, value: v, selected: v == '10' }
        for v in ['5', '10', '20', '50']
      ],
      hide: 0,
      multi: false,
      includeAll: false,
    },
  },

  target(expr, legend='', instant=false, format='time_series'):: {
    datasource: $.ds,
    expr: expr,
    legendFormat: legend,
    range: !instant,
    instant: instant,
    format: format,
  },

  local panel(type, title, unit, targets, description) = {
    type: type,
    title: title,
    description: description,
    datasource: $.ds,
    targets: [t { refId: std.char(65 + i) } for i in std.range(0, std.length(targets) - 1) for t in [targets[i]]],
    fieldConfig: { defaults: { unit: unit }, overrides: [] },
  },

  timeseries(title, unit, targets, description='', stack=false)::
    panel('timeseries', title, unit, targets, description) {
      fieldConfig+: { defaults+: { custom: { fillOpacity: if stack then 30 else 10, stacking: { mode: if stack then 'normal' else 'none' } } } },
      options: {
        legend: { displayMode: 'table', placement: 'right', calcs: ['mean', 'max', 'lastNotNull'] },
        tooltip: { mode: 'multi', sort: 'desc' },
      },
    },

  stat(title, unit, targets, description='')::
    panel('stat', title, unit, targets, description) {
      options: {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        colorMode: 'value',
        graphMode: 'none',
        textMode: 'auto',
      },
    },

  // An instant query shown as a table (one row per series).
  table(title, unit, targets, description='')::
    panel('table', title, unit, targets, description) {
      options: { showHeader: true, footer: { show: false } },
      transformations: [{ id: 'merge', options: {} }],
    },

  row(title):: { type: 'row', title: title, collapsed: false, panels: [] },

  // Lays panels out left to right, `width` columns each (24 a line); a row
  // starts a new line. Ids are given in order.
  layout(panels, height=8)::
    local step(acc, p) =
      local w = if p.type == 'row' then 24 else std.get(p, 'width', 8);
      local h = if p.type == 'row' then 1 else std.get(p, 'height', height);
      local wrap = p.type == 'row' || acc.x + w > 24;
      local x = if wrap then 0 else acc.x;
      local y = if wrap then acc.y + acc.h else acc.y;
      {
        x: if p.type == 'row' then 24 else x + w,  // a row fills its line
        y: y,
        h: if wrap then h else std.max(acc.h, h),  // the line's tallest panel
        out: acc.out + [p { width:: null, height:: null } {
          id: std.length(acc.out) + 1,
          gridPos: { x: x, y: y, w: w, h: h },
        }],
      };
    std.foldl(step, panels, { x: 0, y: 0, h: 0, out: [] }).out,

  dashboard(uid, title, description, variables, panels):: {
    uid: uid,
    title: title,
    description: description,
    tags: ['cgio'],
    schemaVersion: $.schemaVersion,
    version: 1,
    editable: true,
    graphTooltip: 1,
    time: { from: 'now-6h', to: 'now' },
    refresh: '1m',
    timezone: '',
    links: [{ title: 'cgio dashboards', type: 'dashboards', tags: ['cgio'], asDropdown: true }],
    annotations: { list: [] },
    templating: { list: variables },
    panels: $.layout(panels),
  },
}
