import { createReadStream, statSync } from 'node:fs';
import type { Command } from 'commander';
import { isFieldsimError } from '../../core/errors/fieldsim-error.ts';
import { CaseDb } from '../../core/store/case-db.ts';
import { FieldsimDb } from '../../core/store/fieldsim-db.ts';
import { listFixtureIds } from '../../core/store/fixtures.ts';
import { countLedgerEntries } from '../../core/store/ledgers.ts';
import { ingestRestore } from '../../core/store/restore-ingest.ts';
import { getRegistration, getSyncToken } from '../../core/store/sync-state.ts';
import { SqliteStore } from '../../node-store/sqlite-store.ts';
import { CliExit } from '../cli-exit.ts';

/**
 * `fieldsim restore-file <path> [--no-purge] --json`: loads a restore payload into a fresh
 * in-memory database exactly as a phone would (parse, case rules, purge) and prints what
 * is left. QA and support use it on payloads users send (issue 3). The JSON shape is a
 * contract; a rejected payload exits 2 with `{"error":{"code","message"}}`.
 */

export interface RestoreFileSummary {
  syncToken: string | null;
  user: { username: string; uuid: string } | null;
  cases: { total: number; open: number; closed: number; byType: Record<string, number> };
  indices: number;
  fixtures: string[];
  ledgers: number;
}

export async function summariseRestoreFile(path: string, purge: boolean): Promise<RestoreFileSummary> {
  // A private in-memory SQLite database: the CLI's own store, nothing written to disk.
  const store = SqliteStore.open(':memory:');
  const db = new FieldsimDb('fieldsim-restore-file', store.deps());
  try {
    await ingestRestore(db, createReadStream(path), { mode: 'full', purge });
    const stats = await new CaseDb(db).stats();
    const reg = await getRegistration(db);
    const byType: Record<string, number> = {};
    for (const t of Object.keys(stats.byType).sort()) byType[t] = stats.byType[t] as number;
    return {
      syncToken: await getSyncToken(db),
      user: reg === null ? null : { username: reg.username, uuid: reg.uuid },
      cases: { total: stats.total, open: stats.open, closed: stats.closed, byType },
      indices: stats.indices,
      fixtures: await listFixtureIds(db),
      ledgers: await countLedgerEntries(db),
    };
  } finally {
    db.close();
    store.close();
  }
}

export function registerRestoreFile(program: Command): void {
  program
    .command('restore-file')
    .description('Load a restore payload from a file into a fresh in-memory database and summarise it')
    .argument('<path>', 'restore XML file')
    .option('--no-purge', 'keep every case (skip the phone purge)')
    .option('--json', 'print one JSON object')
    .action(async (path: string, opts: { purge: boolean; json?: boolean }) => {
      try {
        const st = statSync(path, { throwIfNoEntry: false });
        if (st === undefined || !st.isFile()) {
          const err = { code: 'invalid-argument', message: `No such file: ${path}` };
          if (opts.json) console.log(JSON.stringify({ error: err }));
          else console.error(err.message);
          throw new CliExit(2);
        }
        const s = await summariseRestoreFile(path, opts.purge);
        if (opts.json) console.log(JSON.stringify(s));
        else {
          console.log(`sync token: ${s.syncToken ?? '(none)'}`);
          console.log(`user:       ${s.user ? `${s.user.username} (${s.user.uuid})` : '(none)'}`);
          console.log(`cases:      ${s.cases.total} (${s.cases.open} open, ${s.cases.closed} closed)`);
          for (const [t, n] of Object.entries(s.cases.byType)) console.log(`  ${t}: ${n}`);
          console.log(`indices:    ${s.indices}`);
          console.log(`fixtures:   ${s.fixtures.join(', ') || '(none)'}`);
          console.log(`ledgers:    ${s.ledgers}`);
        }
      } catch (e) {
        if (e instanceof CliExit) throw e;
        if (!isFieldsimError(e)) throw e;
        if (opts.json) console.log(JSON.stringify({ error: { code: e.code, message: e.message } }));
        else console.error(`error (${e.code}): ${e.message}`);
        throw new CliExit(2);
      }
    });
}
