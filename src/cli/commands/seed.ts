import type { Command } from 'commander';
import { SeedError, seedCases } from '../../server/seed/seed-cases.ts';
import { CliExit } from '../cli-exit.ts';

/**
 * `fieldsim seed --cases N [--user worker1] [--data DIR] [--domain demo] [--json]`: loads N
 * synthetic cases (households with members indexed as `parent`) for one mobile worker
 * into the local emulator's database, seeding the demo project first when the folder is
 * empty (issue 5). Same data as `npm start -- --seed-cases N`. Run it while the emulator
 * is stopped, or against a folder the emulator will open next.
 */
export function registerSeed(program: Command): void {
  program
    .command('seed')
    .description("load synthetic cases into the local emulator's data folder")
    .requiredOption('--cases <n>', 'number of cases to create', (v) => Number(v))
    .option('--user <username>', 'mobile worker who owns them', 'worker1')
    .option('--domain <domain>', 'project', 'demo')
    .option('--data <dir>', 'emulator data folder (default: $FIELDSIM_DATA or .fieldsim/)')
    .option('--json', 'print one JSON object')
    .action((opts: { cases: number; user: string; domain: string; data?: string; json?: boolean }) => {
      const dataDir = opts.data ?? process.env.FIELDSIM_DATA ?? '.fieldsim';
      try {
        const r = seedCases({ dataDir, cases: opts.cases, user: opts.user, domain: opts.domain });
        if (opts.json) console.log(JSON.stringify({ dataDir, ...r }));
        else
          console.log(
            `seeded ${opts.cases} cases for ${r.username} (${r.households} households, ${r.members} members) ` +
              `in ${r.seconds.toFixed(2)} s (${r.casesPerSecond} cases/s) into ${dataDir}`,
          );
      } catch (e) {
        if (!(e instanceof SeedError)) throw e;
        const message = e.message;
        if (opts.json) console.log(JSON.stringify({ error: { code: 'invalid-argument', message } }));
        else console.error(`fieldsim seed: ${message}`);
        throw new CliExit(2);
      }
    });
}
