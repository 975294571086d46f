#!/bin/bash
# scratch/fork35/fresh.sh [pin.ts flags]: every trace's freshSizes (bench/hitratio/reference.ts; both halves, P6 has none), one replay at a time.
cd "$(dirname "$0")/../.." || exit 1
for trace in P12 gli multi3 loop sprite web12 corda zigzag scan orm-busy w106; do
  node --import tsx scratch/fork35/pin.ts --trace "$trace" --fresh "$@"
done
