// Child process for atomic-file.test.ts: rewrites the target with two large contents in turn
// until it is killed, saying "started" after the first complete write.
import { writeFileAtomic } from '../../../../src/cli/state/atomic-file.ts';

const target = process.argv[2] as string;
const a = Buffer.alloc(8 * 1024 * 1024, 'a');
const b = Buffer.alloc(6 * 1024 * 1024, 'b');
writeFileAtomic(target, a);
process.stdout.write('started\n');
for (let i = 0; ; i++) writeFileAtomic(target, i % 2 === 0 ? b : a);
