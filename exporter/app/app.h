// The composition root: wires flags, kernel, maps, programs, collectors and
// the web server together, then waits for SIGTERM/SIGINT. Start-up runs in
// phases, each returning what it owns (app.cpp): gather (capabilities,
// mounts, kernel, cgroup hierarchy, BPF configuration, accounting file),
// bind the web server (a port in use is reported before BPF loading), start
// counting (maps, plan, programs, tracker, cgroup events), start serving
// (collectors), wait for a stop signal.
#pragma once

#include <csignal>

#include "config/options.h"

namespace cgio {

// Returns the process exit code. SIGTERM and SIGINT must be blocked in every
// thread before this is called (main does it); run() waits for them.
int run(const Options& options);

// SIGTERM and SIGINT: main blocks them before any thread starts, run() waits for them.
sigset_t stop_signals();

// --print-plan: the plan for this kernel, made without loading anything.
int print_plan(const Options& options);
// --bpf.unpin: removes the pinned state; the exit status.
int unpin(const Options& options);

}  // namespace cgio
