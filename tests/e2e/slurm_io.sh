#!/bin/sh
# slurm_io.sh <source file> <blocks>: the I/O of one e2e.slurm job (or step):
# <blocks> reads and writes of 4,096 bytes, from <source> to a file of its own.
out="$1.${SLURM_JOB_ID:-0}.${SLURM_STEP_ID:-0}.$$"
dd if="$1" of="$out" bs=4096 count="$2" status=none
rm -f "$out"
