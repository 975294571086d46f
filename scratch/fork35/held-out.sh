#!/bin/bash
# scratch/fork35/held-out.sh [pin.ts flags]: the held-out half at the benchmark's sizes, one replay at a time. Run once per frozen candidate.
cd "$(dirname "$0")/../.." || exit 1
for spec in P12:50000,100000,150000,200000 scan:500,1500 multi3:1000,2000,4000 loop:500,1000 web12:1000,2000,8000 w106:10000,100000; do
  node --import tsx scratch/fork35/pin.ts --trace "${spec%%:*}" --sizes "${spec#*:}" "$@"
done
