# shellcheck shell=bash
# A throw-away one-node Slurm cluster for end-to-end tests (source this file).
#
#   . tests/e2e/slurm_lib.sh
#   slurm_start "$work/slurm" || exit 1     # exports SLURM_CONF
#   trap slurm_stop EXIT
#   id=$(sbatch --parsable --wrap 'dd if=/dev/zero of=/tmp/x bs=1M count=5')
#   slurm_wait_job "$id" 60                  # prints COMPLETED, FAILED, ...
#
# Everything the cluster writes (configuration, munge key and socket, state,
# spool, logs, pid files) lives under <workdir>; the host's /etc/slurm,
# /etc/munge and /run/munge are neither read nor touched, so a system munged
# or slurmd (if any) is left alone. Requires root (slurmd must create
# cgroups and become the job's user).
#
# Settings through the environment (all optional):
#   SLURM_CGROUP_PLUGIN   cgroup.conf CgroupPlugin (default cgroup/v1)
#   SLURM_CGROUP_EXTRA    extra lines appended to cgroup.conf (e.g. IgnoreSystemd=yes)
#   SLURM_CONF_EXTRA      extra lines appended to slurm.conf (e.g. PrologFlags=Contain)
#   SLURM_CTLD_PORT, SLURMD_PORT   TCP ports (default 6817, 6818: Slurm's own)
#   SLURM_DEBUG           SlurmctldDebug/SlurmdDebug level (default info)
#   SLURM_START_TIMEOUT   seconds to wait for the node to be idle (default 60)
#   SLURMD_CGROUP2        cgroup2 directory, relative to the cgroup2 mount, to
#                         start slurmd in (e.g. system.slice/slurmd.service, as
#                         systemd would); created if missing and removed by
#                         slurm_stop if this library created it. Default: the
#                         caller's cgroups (slurmd inherits them all).
#
# One cluster per host at a time: the node is named after the host and its
# cgroups are <controller>/slurm_<host>. Job ids restart at 1 on every start
# (slurmctld -c), so job_1 is reused from one run to the next.
#
# The library never sets shell options (set -e/-u/pipefail) of its caller and
# works under `set -euo pipefail`. Functions return non-zero and print `slurm_lib: ...`
# on stderr on failure.

# The last cluster this library started, whatever the workdir: lets a run
# stop the daemons of a previous run that crashed before its EXIT trap ran
# (they would hold the ports and the node's cgroups).
SLURM_LIB_LAST=${SLURM_LIB_LAST:-/run/cgio-slurm-lib.last}
SLURM_LIB_WORKDIR=${SLURM_LIB_WORKDIR:-}

_slurm_log() { echo "slurm_lib: $*" >&2; }

# The directory holding the v1 controller mounts (Slurm's CgroupMountpoint for
# cgroup/v1: it appends /<controller>), or the cgroup2 mount for cgroup/v2.
_slurm_cgroup_mountpoint() {
  local plugin=$1 m
  if [ "$plugin" = cgroup/v2 ]; then
    findmnt -n -o TARGET -t cgroup2 | head -1
    return
  fi
  m=$(findmnt -n -o TARGET -t cgroup | head -1)
  if [ -n "$m" ]; then dirname "$m"; fi
}

# Every cgroup mount (v1 hierarchies and cgroup2), one per line.
_slurm_cgroup_mounts() { findmnt -n -o TARGET -t cgroup,cgroup2; }

# pid from a pid file if that process is alive and its command is $2.
_slurm_pid_alive() {
  local file=$1 comm=$2 pid
  [ -r "$file" ] || return 1
  pid=$(cat "$file" 2>/dev/null) || return 1
  case "$pid" in '' | *[!0-9]*) return 1 ;; esac
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ] || return 1
  # A daemon that died but is not reaped yet (our own background child) is
  # a zombie: dead.
  case "$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null)" in
    Z | X | '') return 1 ;;
  esac
  echo "$pid"
}

# TERM, then KILL after 10 s, the daemon recorded in pid file $1 (command $2).
_slurm_kill_pidfile() {
  local file=$1 comm=$2 pid i
  pid=$(_slurm_pid_alive "$file" "$comm") || { rm -f "$file"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$file"
  return 0
}

# The cgroups Slurm creates for this node: <mount>/slurm_<node> in each v1
# hierarchy (cgroup/v1), <node>_slurmstepd.scope or slurmstepd.scope in
# cgroup2 (cgroup/v2). Printed one per line if they exist.
_slurm_node_cgroups() {
  local node=$1 m d
  while read -r m; do
    for d in "$m/slurm_$node" "$m/slurm" "$m/system.slice/${node}_slurmstepd.scope" \
             "$m/system.slice/slurmstepd.scope"; do
      if [ -d "$d" ]; then echo "$d"; fi
    done
  done < <(_slurm_cgroup_mounts)
}

# Kill what is left in the node's Slurm cgroups (slurmstepd and job tasks of a
# crashed run) and remove the directories, leaves first. A frozen v1 freezer
# cgroup is thawed first: frozen tasks cannot die.
_slurm_cleanup_cgroups() {
  local node=$1 top d pids i left
  for i in 1 2 3 4 5 6 7 8 9 10; do
    left=0
    while read -r top; do
      while read -r d; do
        if [ -w "$d/freezer.state" ]; then echo THAWED > "$d/freezer.state" 2>/dev/null || true; fi
        pids=$(cat "$d/cgroup.procs" 2>/dev/null) || pids=""
        if [ -n "$pids" ]; then
          left=1
          # shellcheck disable=SC2086
          kill -KILL $pids 2>/dev/null || true
        fi
      done < <(find "$top" -depth -mindepth 0 -type d 2>/dev/null)
    done < <(_slurm_node_cgroups "$node")
    [ "$left" = 0 ] && break
    sleep 0.2
  done
  while read -r top; do
    find "$top" -depth -type d -exec rmdir {} + 2>/dev/null || true
    if [ -d "$top" ]; then _slurm_log "could not remove cgroup $top"; fi
  done < <(_slurm_node_cgroups "$node")
  return 0
}

# Stop the daemons of the cluster in $1 (a workdir) and clean its cgroups.
_slurm_stop_workdir() {
  local wd=$1 node=""
  [ -n "$wd" ] && [ -d "$wd" ] || return 0
  if [ -r "$wd/nodename" ]; then node=$(cat "$wd/nodename") || node=""; fi
  # Cancel jobs while slurmctld still runs, so that slurmstepd ends each job
  # itself (removing its cgroups) instead of being killed from outside.
  if _slurm_pid_alive "$wd/slurmctld.pid" slurmctld >/dev/null &&
     _slurm_pid_alive "$wd/slurmd.pid" slurmd >/dev/null; then
    local jobs i
    jobs=$(SLURM_CONF=$wd/slurm.conf timeout 5 squeue -h -o %i 2>/dev/null) || jobs=""
    if [ -n "$jobs" ]; then
      # shellcheck disable=SC2086
      SLURM_CONF=$wd/slurm.conf timeout 5 scancel $jobs 2>/dev/null || true
      for i in $(seq 1 50); do
        [ -z "$(SLURM_CONF=$wd/slurm.conf timeout 5 squeue -h -o %i 2>/dev/null)" ] && break
        sleep 0.2
      done
    fi
  fi
  # slurmd first (it would otherwise report to a dead slurmctld), munged last
  # (both daemons authenticate through it until they exit).
  _slurm_kill_pidfile "$wd/slurmd.pid" slurmd
  _slurm_kill_pidfile "$wd/slurmctld.pid" slurmctld
  _slurm_kill_pidfile "$wd/munge/munged.pid" munged
  # slurmstepd outlives slurmd: kill leftovers and remove the job cgroups.
  if [ -n "$node" ]; then _slurm_cleanup_cgroups "$node"; fi
  if [ -r "$wd/created_cgroup2" ]; then
    tac "$wd/created_cgroup2" | while read -r d; do rmdir "$d" 2>/dev/null || true; done
    rm -f "$wd/created_cgroup2"
  fi
  return 0
}

# slurm_start <workdir>
slurm_start() {
  local wd=${1:?usage: slurm_start <workdir>}
  local plugin=${SLURM_CGROUP_PLUGIN:-cgroup/v1}
  local ctld_port=${SLURM_CTLD_PORT:-6817} slurmd_port=${SLURMD_PORT:-6818}
  local debug=${SLURM_DEBUG:-info} timeout=${SLURM_START_TIMEOUT:-60}
  local node nodeline cgmount i state

  if [ "$(id -u)" -ne 0 ]; then _slurm_log "must run as root"; return 1; fi
  for i in munged mungekey munge slurmctld slurmd slurmstepd sinfo scontrol findmnt; do
    command -v "$i" >/dev/null || { _slurm_log "$i not found (apt-get install slurm-wlm munge)"; return 1; }
  done
  mkdir -p "$wd" || return 1
  wd=$(cd "$wd" && pwd) || return 1

  # A previous run that crashed (or this same workdir still running): stop it.
  if [ -r "$SLURM_LIB_LAST" ]; then
    _slurm_stop_workdir "$(cat "$SLURM_LIB_LAST")"
  fi
  _slurm_stop_workdir "$wd"

  # slurmd refuses to start unless NodeName is this host's short name (or
  # -N is given); slurmctld likewise checks SlurmctldHost against it.
  node=$(hostname -s)
  echo "$node" > "$wd/nodename"
  # The node's real CPUs/sockets/cores/threads and RealMemory as slurmd sees
  # them: a NodeName line that disagrees makes slurmd drain the node
  # ("Low RealMemory", "Low socket*core*thread count").
  nodeline=$(slurmd -C | head -1) || { _slurm_log "slurmd -C failed"; return 1; }
  nodeline=${nodeline#NodeName=* }
  cgmount=$(_slurm_cgroup_mountpoint "$plugin")
  if [ -z "$cgmount" ]; then _slurm_log "no cgroup mount for $plugin"; return 1; fi

  # Fresh state and spool each time: stale job records or step sockets of a
  # crashed run would otherwise be recovered.
  rm -rf "$wd/state" "$wd/spool"
  mkdir -p "$wd/state" "$wd/spool" "$wd/log" "$wd/munge" || return 1
  # 0755: jobs of other users (sbatch --uid) run srun, which needs the socket.
  chmod 0755 "$wd/munge"
  : > "$wd/jobcomp.txt"

  cat > "$wd/slurm.conf" <<EOF
# Written by tests/e2e/slurm_lib.sh: a one-node cluster for tests.
ClusterName=cgio
# The controller runs here; the address avoids depending on DNS.
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
# Daemons run as root (no slurm user setup, slurmd must be root anyway).
SlurmUser=root
SlurmdUser=root
# Our own munged: AuthInfo socket= is used by auth/munge and cred/munge, by
# the daemons and by the client commands (they read this file too).
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$wd/munge/munge.socket
# Everything under the workdir, nothing in /var.
StateSaveLocation=$wd/state
SlurmdSpoolDir=$wd/spool
SlurmctldPidFile=$wd/slurmctld.pid
SlurmdPidFile=$wd/slurmd.pid
SlurmctldLogFile=$wd/log/slurmctld.log
SlurmdLogFile=$wd/log/slurmd.log
SlurmctldDebug=$debug
SlurmdDebug=$debug
# The cgroup plugins under test: processes tracked by the freezer (v1)
# cgroup, tasks confined in cpuset/memory/devices, accounting from
# cpuacct/memory. Their directories are what cgio must recognise.
ProctrackType=proctrack/cgroup
TaskPlugin=task/cgroup
JobAcctGatherType=jobacct_gather/cgroup
# Cores are consumable, memory not: several 1-CPU jobs run at once without
# each having to ask for memory.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# No slurmdbd: job records end in a text file (readable after slurmctld
# forgot the job, see slurm_wait_job).
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$wd/jobcomp.txt
MpiDefault=none
# No mail on this host (the default /bin/mail is missing: an error per start).
MailProg=/bin/true
# A node that was down (e.g. a previous run's state) comes back by itself.
ReturnToService=2
# SIGKILL 5 s (not 30) after SIGTERM when a job is cancelled: quick stops.
KillWait=5
# Finished jobs stay visible to scontrol for 300 s (the default, stated here
# because slurm_wait_job relies on it; after that it reads jobcomp.txt).
MinJobAge=300
NodeName=$node NodeAddr=127.0.0.1 $nodeline State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
${SLURM_CONF_EXTRA:-}
EOF

  cat > "$wd/cgroup.conf" <<EOF
# Written by tests/e2e/slurm_lib.sh (read by slurmd from slurm.conf's directory).
CgroupPlugin=$plugin
# Where the hierarchies are (found with findmnt); never mount anything.
CgroupMountpoint=$cgmount
CgroupAutomount=no
# Make the task plugin use cpuset, memory and devices so that every
# controller Slurm knows gets a job directory.
ConstrainCores=yes
ConstrainRAMSpace=yes
ConstrainDevices=yes
${SLURM_CGROUP_EXTRA:-}
EOF

  # munged: own key, socket, pid, log and seed files (the system's
  # /run/munge socket, if any, is not used). --force: tolerate what munged
  # would otherwise refuse (a stale lock, lax permissions of a parent of the
  # workdir), as the workdir may be anywhere.
  if [ ! -s "$wd/munge/munge.key" ]; then
    mungekey -c -k "$wd/munge/munge.key" || { _slurm_log "mungekey failed"; return 1; }
  fi
  chmod 0400 "$wd/munge/munge.key"
  rm -f "$wd/munge/munge.socket" "$wd/munge/munge.socket.lock" "$wd/munge/munged.pid"
  munged --force --key-file="$wd/munge/munge.key" --socket="$wd/munge/munge.socket" \
    --pid-file="$wd/munge/munged.pid" --log-file="$wd/log/munged.log" \
    --seed-file="$wd/munge/munged.seed" > "$wd/log/munged.out" 2>&1 ||
    { _slurm_log "munged failed:"; tail -5 "$wd/log/munged.out" "$wd/log/munged.log" >&2; return 1; }
  for i in $(seq 1 50); do
    munge -n -S "$wd/munge/munge.socket" 2>/dev/null | unmunge -S "$wd/munge/munge.socket" >/dev/null 2>&1 && break
    sleep 0.1
  done
  echo "$wd" > "$SLURM_LIB_LAST"
  SLURM_LIB_WORKDIR=$wd
  export SLURM_CONF=$wd/slurm.conf

  # Foreground (-D) daemons in the background, output to log files; -c
  # (slurmctld: discard saved state; slurmd: clear stale locks) makes a start
  # after a crash look like a first start. They write their pid files too.
  slurmctld -D -c -f "$SLURM_CONF" >> "$wd/log/slurmctld.out" 2>&1 &
  echo $! > "$wd/slurmctld.pid"
  if [ -n "${SLURMD_CGROUP2:-}" ]; then
    # slurmd and hence every slurmstepd and (with cgroup/v1) every job task
    # inherit this cgroup2 cgroup: where systemd would have put slurmd.
    local cg2 part
    cg2=$(findmnt -n -o TARGET -t cgroup2 | head -1)
    for part in ${SLURMD_CGROUP2//\// }; do
      cg2=$cg2/$part
      [ -d "$cg2" ] && continue
      mkdir "$cg2" || { _slurm_log "cannot create $cg2"; slurm_stop; return 1; }
      # Deepest last: slurm_stop removes them in reverse order.
      echo "$cg2" >> "$wd/created_cgroup2"
    done
    # shellcheck disable=SC2016
    bash -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' _ "$cg2" \
      slurmd -D -c -f "$SLURM_CONF" >> "$wd/log/slurmd.out" 2>&1 &
  else
    slurmd -D -c -f "$SLURM_CONF" >> "$wd/log/slurmd.out" 2>&1 &
  fi
  echo $! > "$wd/slurmd.pid"

  local why="not idle after ${timeout}s"
  for i in $(seq 1 $((timeout * 5))); do
    state=$(timeout 5 sinfo -h -N -n "$node" -o %T 2>/dev/null | head -1) || state=""
    [ "$state" = idle ] && return 0
    if ! _slurm_pid_alive "$wd/slurmctld.pid" slurmctld >/dev/null; then
      why="slurmctld exited"; break
    fi
    if ! _slurm_pid_alive "$wd/slurmd.pid" slurmd >/dev/null; then
      why="slurmd exited"; break
    fi
    sleep 0.2
  done
  _slurm_log "node $node $why (state '${state:-}'), stopping it; logs in $wd/log"
  local f
  # The .out files (stderr of the -D daemons) repeat the .log files; show
  # them only when the log is empty (e.g. a configuration error at start).
  for f in slurmctld slurmd munged; do
    local log=$wd/log/$f.log
    [ -s "$log" ] || log=$wd/log/$f.out
    [ -s "$log" ] || continue
    echo "--- $log" >&2
    { grep -v -e 'mpi/pmix' -e 'MPI: Cannot create context' "$log" | tail -12 >&2; } || true
  done
  slurm_stop
  return 1
}

# slurm_stop: safe to call twice, without a start, or from an EXIT trap.
slurm_stop() {
  local wd=${SLURM_LIB_WORKDIR:-}
  [ -n "$wd" ] || return 0
  _slurm_stop_workdir "$wd"
  if [ -r "$SLURM_LIB_LAST" ] && [ "$(cat "$SLURM_LIB_LAST")" = "$wd" ]; then
    rm -f "$SLURM_LIB_LAST"
  fi
  SLURM_LIB_WORKDIR=""
  return 0
}

# slurm_wait_job <jobid> [timeout seconds, default 120]
# Prints the final state (COMPLETED, FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY,
# NODE_FAIL, ...); returns 0 for COMPLETED, 1 for another final state, 2 on
# timeout (prints TIMEOUT_WAITING and the last state seen on stderr).
slurm_wait_job() {
  local id=${1:?usage: slurm_wait_job <jobid> [timeout]} timeout=${2:-120}
  local i line state=""
  for i in $(seq 1 $((timeout * 5))); do
    line=$(scontrol -o show job "$id" 2>/dev/null) || line=""
    if [ -n "$line" ]; then
      state=$(sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' <<< "$line")
    else
      # Purged from slurmctld (after MinJobAge): the completion record.
      state=$(grep "JobId=$id " "${SLURM_LIB_WORKDIR:-/nonexistent}/jobcomp.txt" 2>/dev/null |
              tail -1 | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p') || state=""
      [ -n "$state" ] || state=GONE
    fi
    case "$state" in
      PENDING | RUNNING | CONFIGURING | COMPLETING | SUSPENDED | REQUEUED | RESIZING | SIGNALING | STAGE_OUT | "") ;;
      COMPLETED) echo "$state"; return 0 ;;
      *) echo "$state"; return 1 ;;
    esac
    sleep 0.2
  done
  _slurm_log "job $id not finished after ${timeout}s (state $state)"
  echo TIMEOUT_WAITING
  return 2
}
