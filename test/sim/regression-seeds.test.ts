// Every seed that ever failed, replayed as it was found (test/sim/regression-seeds.json; test/sim/sweep.ts).
import { regressionTests } from './sweep.ts';

regressionTests();
