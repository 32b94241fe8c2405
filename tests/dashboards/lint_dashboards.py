#!/usr/bin/python3
"""Lints cgio's Grafana dashboards and rules, or lists their queries.

  lint_dashboards.py DASHBOARD.json... [--rules RULES.json]
      Checks each dashboard (structure, datasource variable, every panel has
      a query, units, ranges, no hard-coded job or instance, variables
      defined) and, given the rules as JSON (jsonnet renders them), that
      every alert has a severity, a summary and a runbook line. Prints each
      problem and exits 1 if there is any.

  lint_dashboards.py --exprs DASHBOARD.json... [--var NAME=VALUE]...
      Prints every query, one per line: file, panel title, refId and the
      expression with the given variables substituted, tab-separated.
"""
import json
import re
import sys

SCHEMA_VERSION = 39
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
RANGE_VARIABLES = {"$__rate_interval", "$__range"}
BUILTIN = re.compile(r"\$__\w+")
VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)\}")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
HARD_CODED = re.compile(r"\b(job|instance)\s*(=|=~)\s*\"(?!\$)")


def panels_of(dashboard):
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])  # a collapsed row's


def lint_dashboard(path, dashboard):
    problems = []

    def bad(what):
        problems.append(f"{path}: {what}")

    if dashboard.get("schemaVersion") != SCHEMA_VERSION:
        bad(f"schemaVersion {dashboard.get('schemaVersion')}, want {SCHEMA_VERSION} (Grafana 10+)")
    for key in ("uid", "title", "description"):
        if not dashboard.get(key):
            bad(f"no {key}")
    if "cgio" not in dashboard.get("tags", []):
        bad("not tagged cgio (the dashboards link to each other by that tag)")

    variables = dashboard.get("templating", {}).get("list", [])
    names = [v.get("name") for v in variables]
    if not variables or variables[0].get("type") != "datasource" or variables[0].get("query") != "prometheus":
        bad("the first variable must be a Prometheus datasource variable")
    elif variables[0].get("name") != "datasource":
        bad("the datasource variable must be named datasource")
    if len(set(names)) != len(names):
        bad(f"variables defined twice: {names}")
    defined = set(names)
    for v in variables:
        if v.get("type") == "query":
            if v.get("datasource") != DATASOURCE:
                bad(f"variable {v.get('name')}: datasource is not ${{datasource}}")
            query = v.get("query", {}).get("query", "")
            if not query:
                bad(f"variable {v.get('name')}: no query")
            if HARD_CODED.search(query):
                bad(f"variable {v.get('name')}: hard-coded job or instance in {query}")

    ids = set()
    boxes = []
    for panel in panels_of(dashboard):
        title = panel.get("title", "")
        where = f"panel {title!r}"
        if not title:
            bad("a panel without a title")
        pid = panel.get("id")
        if pid in ids:
            bad(f"{where}: id {pid} used twice")
        ids.add(pid)
        pos = panel.get("gridPos", {})
        if not all(k in pos for k in "xywh") or pos["x"] < 0 or pos["x"] + pos["w"] > 24:
            bad(f"{where}: gridPos {pos} is not within the 24 columns")
        else:
            for other_title, o in boxes:
                if (pos["x"] < o["x"] + o["w"] and o["x"] < pos["x"] + pos["w"]
                        and pos["y"] < o["y"] + o["h"] and o["y"] < pos["y"] + pos["h"]):
                    bad(f"{where}: overlaps panel {other_title!r}")
            boxes.append((title, pos))
        if panel.get("type") == "row":
            continue
        if panel.get("datasource") != DATASOURCE:
            bad(f"{where}: datasource is not ${{datasource}}")
        if not panel.get("fieldConfig", {}).get("defaults", {}).get("unit"):
            bad(f"{where}: no unit")
        targets = panel.get("targets", [])
        if not targets:
            bad(f"{where}: no query")
        for t in targets:
            expr = t.get("expr", "")
            ref = f"{where} query {t.get('refId')}"
            if not expr.strip():
                bad(f"{ref}: empty expression")
                continue
            if t.get("datasource") != DATASOURCE:
                bad(f"{ref}: datasource is not ${{datasource}}")
            if HARD_CODED.search(expr):
                bad(f"{ref}: hard-coded job or instance: {expr}")
            for r in re.findall(r"\[([^\]]*)\]", STRING.sub('""', expr)):
                if r not in RANGE_VARIABLES:
                    bad(f"{ref}: range [{r}]; use [$__rate_interval] (or [$__range] for totals)")
            for m in VARIABLE.finditer(BUILTIN.sub("", expr)):
                name = m.group(1) or m.group(2)
                if name not in defined:
                    bad(f"{ref}: ${name} is not a variable of the dashboard")
    return problems


def lint_rules(path, rules):
    problems = []
    for group in rules.get("groups", []):
        for rule in group.get("rules", []):
            if "alert" not in rule:
                continue
            name = rule["alert"]
            if not rule.get("labels", {}).get("severity"):
                problems.append(f"{path}: alert {name}: no severity")
            for key in ("summary", "description", "runbook"):
                if not rule.get("annotations", {}).get(key):
                    problems.append(f"{path}: alert {name}: no {key} annotation")
    return problems


def substitute(expr, values):
    def one(m):
        name = m.group(1) or m.group(2)
        return values.get(name, m.group(0))
    # $__rate_interval before $__range: the longest name first.
    for name in sorted((n for n in values if n.startswith("__")), key=len, reverse=True):
        expr = expr.replace("$" + name, values[name])
    return VARIABLE.sub(one, expr)


def main(argv):
    exprs = False
    rules = None
    values = {}
    files = []
    args = iter(argv)
    for a in args:
        if a == "--exprs":
            exprs = True
        elif a == "--rules":
            rules = next(args, None)
        elif a == "--var":
            name, _, value = next(args, "").partition("=")
            values[name] = value
        elif a.startswith("-"):
            print(__doc__, file=sys.stderr)
            return 2
        else:
            files.append(a)
    if not files:
        print(__doc__, file=sys.stderr)
        return 2
    problems = []
    count = 0
    for path in files:
        with open(path, encoding="utf-8") as f:
            dashboard = json.load(f)
        if exprs:
            for panel in panels_of(dashboard):
                for t in panel.get("targets", []):
                    expr = " ".join(substitute(t["expr"], values).split())
                    print(f"{path}\t{panel['title']}\t{t['refId']}\t{expr}")
            continue
        problems += lint_dashboard(path, dashboard)
        count += sum(len(p.get("targets", [])) for p in panels_of(dashboard))
    if exprs:
        return 0
    if rules:
        with open(rules, encoding="utf-8") as f:
            problems += lint_rules(rules, json.load(f))
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"ok: {len(files)} dashboards, {count} queries" + (", and the alerts" if rules else "") + ": no problem")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
