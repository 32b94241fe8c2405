#!/bin/bash
# End-to-end with a real Slurm (issue 11): Debian's slurm-wlm and munge as a
# one-node cluster on localhost (tests/e2e/slurm_lib.sh), cgio started with
# default flags before slurmd and before the first job, as at boot. slurmd
# runs in a cgroup2 service cgroup, as systemd would start it; on a hybrid
# host Slurm's cgroup/v1 plugin puts jobs in the v1 hierarchies only.
#   slurm.sh <cgio_exporter>
#
# (The --wrap scripts of the two step jobs have the same length: the shell
# reads its script, and "8" and "72" would differ by a byte.)
# Jobs (each copies N blocks of 4,096 bytes between files on a tmpfs with
# dd, through tests/e2e/slurm_io.sh): a batch job shorter than a second
# (N=1) and one of N=257; a job with two srun steps; a job array of three.
# Slurm and the shell add small I/O of their own (the same for every job),
# so totals are compared as differences between jobs of different N, and
# must equal the bytes and calls dd was asked for, exactly. Every job must be
# workload="slurm" with its job id, have exactly one accounting record whose
# counters are the metric's, be named in cgio_workload_info (user, job
# name), and none of its I/O may be charged to slurmd's service.
set -u
exporter=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/slurm_lib.sh"
e2e_require_root
for tool in sbatch srun squeue scontrol slurmctld slurmd munged curl findmnt; do
  command -v "$tool" >/dev/null || e2e_fatal "$tool not found (packaging/install-deps.sh --test installs it)"
done

work=$(mktemp -d /tmp/cgio-e2e-slurm.XXXXXX)
chmod 0755 "$work"
cleanup() {
  e2e_stop_exporter
  slurm_stop
  mountpoint -q "$work/fs" && umount "$work/fs"
  [ -n "${CGIO_E2E_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

# --- cgio first, with default flags (plus the accounting file a site sets)
records=$work/accounting.jsonl
e2e_start_exporter "$exporter" "$work/log" --accounting.file="$records"
grep -o 'msg="accounting by cgroup" hierarchy=[a-z0-9]*' "$work/log"

# --- then Slurm, its slurmd in a service cgroup of cgroup2
slurmd_unit=cgio-e2e-slurmd.service
SLURMD_CGROUP2=system.slice/$slurmd_unit SLURM_DEBUG=error slurm_start "$work/slurm" >"$work/slurm.out" 2>&1 ||
  { cat "$work/slurm.out"; e2e_fatal "Slurm did not start"; }

mkdir -p "$work/fs"
mount -t tmpfs cgio-e2e-slurm "$work/fs" || e2e_fatal "mount tmpfs"
chmod 0777 "$work/fs"
src=$work/fs/src
head -c $((4096 * 400)) /dev/urandom >"$src"
io=$here/slurm_io.sh

# slurmd_bytes <scrape>: what its service's cgroup read and wrote (slurmd's
# and slurmstepd's own I/O: logs, state, spool, plugins).
slurmd_bytes() {
  echo $(($(e2e_sum "$1" cgio_vfs_read_bytes_total workload_id=$slurmd_unit) +
    $(e2e_sum "$1" cgio_vfs_write_bytes_total workload_id=$slurmd_unit)))
}
# submit <name> <sbatch args...>: prints the job id.
submit() {
  local name=$1
  shift
  sbatch --parsable -J "$name" --output=/dev/null --chdir="$work/fs" "$@" | cut -d';' -f1
}
# The short and the long job one after the other, slurmd's I/O measured
# during each: if a job's I/O went to slurmd, the long job's 1 MiB more
# would show there.
e2e_scrape "$work/s0.prom"
short=$(submit short "$io" "$src" 1)
state=$(slurm_wait_job "$short" 120) || e2e_fatal "job $short ended $state"
sleep 0.5
e2e_scrape "$work/s1.prom"
long=$(submit long "$io" "$src" 257)
state=$(slurm_wait_job "$long" 120) || e2e_fatal "job $long ended $state"
sleep 0.5
e2e_scrape "$work/s2.prom"
slurmd_short=$(($(slurmd_bytes "$work/s1.prom") - $(slurmd_bytes "$work/s0.prom")))
slurmd_long=$(($(slurmd_bytes "$work/s2.prom") - $(slurmd_bytes "$work/s1.prom")))
echo "slurmd's own bytes: $slurmd_short during the short job, $slurmd_long during the long one"
steps_a=$(submit steps-a --wrap "srun $io $src 10; sleep 1; srun $io $src 10")
steps_b=$(submit steps-b --wrap "srun $io $src 10; sleep 1; srun $io $src 74")
array=$(submit array --array=1-3 "$io" "$src" 65)
for id in "$steps_a" "$steps_b"; do
  state=$(slurm_wait_job "$id" 120) || e2e_fatal "job $id ended $state"
done
# The array's tasks: wait until the queue is empty, then take their ids from
# the completion log.
for _ in $(seq 1 600); do
  [ -z "$(squeue -h -o %i)" ] && break
  sleep 0.2
done
[ -z "$(squeue -h -o %i)" ] || e2e_fatal "jobs still queued: $(squeue -h)"
mapfile -t array_ids < <(sed -n "s/.*JobId=\([0-9]*\) .*Name=array .*JobState=COMPLETED.*/\1/p" \
  "$work/slurm/jobcomp.txt" | sort -un)
[ "${#array_ids[@]}" = 3 ] || e2e_fatal "array $array: ${#array_ids[@]} completed tasks, want 3 ($(cat "$work/slurm/jobcomp.txt"))"
echo "jobs: short=$short long=$long steps=$steps_a,$steps_b array=${array_ids[*]}"

# Job ends are events; allow the reader to fold the last ones.
sleep 1
e2e_scrape "$work/after.prom"
m=$work/after.prom
job() { e2e_sum "$m" "$2" workload=slurm "workload_id=$1"; }
blocks() { echo $(($1 * 4096)); }

# Every job is one unit of workload="slurm" (the series exists).
for id in "$short" "$long" "$steps_a" "$steps_b" "${array_ids[@]}"; do
  n=$(grep -c "^cgio_vfs_writes_total{.*workload=\"slurm\",workload_id=\"$id\"}" "$m")
  e2e_check "job $id" "series" "$n" 1
done

# Exact differences: dd reads N blocks and writes N blocks, one call each.
for counter in read_bytes write_bytes; do
  e2e_check "long-short" "cgio_vfs_${counter}_total" \
    $(($(job "$long" "cgio_vfs_${counter}_total") - $(job "$short" "cgio_vfs_${counter}_total"))) "$(blocks 256)"
  e2e_check "steps_b-steps_a" "cgio_vfs_${counter}_total" \
    $(($(job "$steps_b" "cgio_vfs_${counter}_total") - $(job "$steps_a" "cgio_vfs_${counter}_total"))) "$(blocks 64)"
  for id in "${array_ids[@]}"; do
    e2e_check "array $id-short" "cgio_vfs_${counter}_total" \
      $(($(job "$id" "cgio_vfs_${counter}_total") - $(job "$short" "cgio_vfs_${counter}_total"))) "$(blocks 64)"
  done
done
for counter in reads writes; do
  e2e_check "long-short" "cgio_vfs_${counter}_total" \
    $(($(job "$long" "cgio_vfs_${counter}_total") - $(job "$short" "cgio_vfs_${counter}_total"))) 256
  e2e_check "steps_b-steps_a" "cgio_vfs_${counter}_total" \
    $(($(job "$steps_b" "cgio_vfs_${counter}_total") - $(job "$steps_a" "cgio_vfs_${counter}_total"))) 64
done

# None of it went to slurmd: the long job's 2 MiB more (read and written)
# are not in slurmd's service.
e2e_check_below "$slurmd_unit" "bytes during the long job minus during the short" \
  $((slurmd_long - slurmd_short)) "$(blocks 256)"
e2e_check "intermediate cgroups" "records and series for uid_0" \
  "$(grep -c '"cgroup":"/slurm_[^"]*/uid_0"' "$records")" 0

# One record per job, with the metric's totals; a name for every job.
for id in "$short" "$long" "$steps_a" "$steps_b" "${array_ids[@]}"; do
  e2e_check "job $id" "accounting records" "$(grep -c "\"workload\":\"slurm\",\"workload_id\":\"$id\"" "$records")" 1
  rec=$(grep "\"workload\":\"slurm\",\"workload_id\":\"$id\"" "$records" | head -1)
  e2e_check "job $id" "record cgio_vfs_write_bytes_total" \
    "$(sed -n 's/.*"cgio_vfs_write_bytes_total":\([0-9]*\).*/\1/p' <<<"$rec")" "$(job "$id" cgio_vfs_write_bytes_total)"
  info=$(grep "^cgio_workload_info{.*workload=\"slurm\",workload_id=\"$id\"" "$m")
  e2e_check "job $id" "cgio_workload_info user" "$(sed -n 's/.*user="\([^"]*\)".*/\1/p' <<<"$info")" root
  e2e_check "job $id" "cgio_workload_info uid" "$(sed -n 's/.*uid="\([^"]*\)".*/\1/p' <<<"$info")" 0
done
# The job name is in its tasks' environment: found for jobs whose tasks
# lived long enough to be looked at (steps take a second); the record has it.
for pair in "$steps_a:steps-a" "$steps_b:steps-b"; do
  id=${pair%%:*}
  info=$(grep "^cgio_workload_info{.*workload=\"slurm\",workload_id=\"$id\"" "$m")
  e2e_check "job $id" "cgio_workload_info job_name" "$(sed -n 's/.*job_name="\([^"]*\)".*/\1/p' <<<"$info")" "${pair#*:}"
  e2e_check "job $id" "record info.job_name" \
    "$(grep "\"workload_id\":\"$id\"" "$records" | sed -n 's/.*"job_name":"\([^"]*\)".*/\1/p')" "${pair#*:}"
done

if [ "$(e2e_failures)" -ne 0 ]; then
  echo "--- cgio_exporter log"
  tail -20 "$work/log"
  echo "$(e2e_failures) check(s) failed"
  exit 1
fi
echo "all Slurm checks passed"
