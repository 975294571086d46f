#!/bin/bash
# scratch/fork35/tuning.sh [pin.ts flags]: the tuning half at the benchmark's sizes (P6 also at 120000 / 175000), one replay at a time.
cd "$(dirname "$0")/../.." || exit 1
for spec in P6:50000,100000,120000,150000,175000,200000 zigzag:500,1500 gli:250,1000 sprite:500,1000,4000 corda:1000,5000,50000 orm-busy:1000,10000; do
  node --import tsx scratch/fork35/pin.ts --trace "${spec%%:*}" --sizes "${spec#*:}" "$@"
done
