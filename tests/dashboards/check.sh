#!/bin/bash
# The dashboards and rules as an operator imports them:
#   check.sh generated   the committed JSON and YAML are what dashboards/src renders
#   check.sh lint        dashboards/*.json and the alerts pass the lint, and the
#                        lint names every mistake of a fixture made of them
#   check.sh rules       promtool check rules, and promtool test rules with
#                        tests/dashboards/cgio.rules.test.yml
# promtool is Debian's prometheus 2.42, unpacked by packaging/install-deps.sh --test.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
promtool=/var/cache/cgio/tools/promtool
fail() { echo "FAIL: $*"; exit 1; }

case "${1:-}" in
  generated)
    exec "$src/dashboards/generate.sh" --check
    ;;
  lint)
    rules=$(mktemp)
    trap 'rm -f "$rules"' EXIT
    jsonnet -J "$src/dashboards/src" "$src/dashboards/src/rules.jsonnet" >"$rules" || fail "jsonnet rules.jsonnet"
    /usr/bin/python3 "$here/lint_dashboards.py" "$src"/dashboards/cgio-*.json --rules "$rules" || fail "the shipped dashboards"
    out=$(/usr/bin/python3 "$here/lint_dashboards.py" "$src/tests/fixtures/dashboards/bad.json")
    [ $? = 1 ] || fail "the lint passed a dashboard full of mistakes"
    missing=0
    for want in "schemaVersion 27" "not tagged cgio" "first variable must be a Prometheus datasource" \
      "variable job: datasource is not" "variable job: hard-coded job" "'No unit': datasource is not" \
      "'No unit': no unit" "hard-coded job or instance: rate" "range [5m]" "id 1 used twice" \
      "overlaps panel 'No unit'" "'Overlapping, no query': no query" "not within the 24 columns" \
      "\$workload is not a variable"; do
      grep -qF -- "$want" <<<"$out" || { echo "FAIL: the lint did not say: $want"; missing=$((missing + 1)); }
    done
    [ "$missing" = 0 ] || { echo "$out"; exit 1; }
    echo "ok: the lint names all 14 mistakes of tests/fixtures/dashboards/bad.json"
    ;;
  rules)
    [ -x "$promtool" ] || fail "$promtool not found (packaging/install-deps.sh --test unpacks it)"
    "$promtool" check rules "$src/dashboards/rules/cgio.rules.yml" || fail "promtool check rules"
    (cd "$here" && "$promtool" test rules cgio.rules.test.yml) || fail "promtool test rules"
    ;;
  *)
    echo "usage: $0 generated|lint|rules" >&2
    exit 2
    ;;
esac
