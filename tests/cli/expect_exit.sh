#!/bin/sh
# expect_exit.sh CODE TEXT -- COMMAND [ARGS...]
# Passes when COMMAND exits with CODE and its output contains TEXT.
code=$1; text=$2; shift 2
[ "$1" = "--" ] && shift
out=$("$@" 2>&1)
rc=$?
printf '%s\n' "$out"
if [ "$rc" -ne "$code" ]; then
  echo "FAIL: exit code $rc, expected $code" >&2
  exit 1
fi
case "$out" in
  *"$text"*) echo "ok: exit $rc, output contains: $text" ;;
  *) echo "FAIL: output lacks: $text" >&2; exit 1 ;;
esac
