// Child process for state-lock.test.ts: takes the lock named in argv, says so, then waits to be killed.
import { acquireLock } from '../../../../src/cli/state/state-lock.ts';

acquireLock(process.argv[2] as string, 'hold-lock');
process.stdout.write('locked\n');
setInterval(() => {}, 1000);
