import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateStore } from '../../src/cli/state/state-store.ts';
import { openSession } from '../../src/cli/worker-session.ts';
import { SqliteStore } from '../../src/node-store/sqlite-store.ts';
import { type CliRun, runCli } from '../helpers/run-cli.ts';
import { testSessionRecord } from '../helpers/session-record.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';

/**
 * The CLI as an install without development dependencies runs it (issue 15: fake-indexeddb
 * is a test double, a dev dependency only). Each command is the real entry point
 * (bin/fieldsim.js: the compiled dist-cli/ of `npm run build:cli` when fresh) in a child
 * process started with a Node module hook that makes `fake-indexeddb` unresolvable, from
 * any importer, static or dynamic, exactly as a missing package fails
 * (ERR_MODULE_NOT_FOUND). A hook is used rather than a copy of the tree without the
 * package: node_modules here is shared, and the hook cannot be bypassed by a parent
 * folder's node_modules or NODE_PATH.
 */

const EXAMPLES = resolve(import.meta.dirname, '../../examples');
const SAMPLES = resolve(import.meta.dirname, '../../../shared/samples');
const tmp = mkdtempSync(join(tmpdir(), 'fieldsim-no-fidb-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const hook = join(tmp, 'hide-fake-indexeddb.mjs');
writeFileSync(
  hook,
  `export async function resolve(specifier, context, next) {
  if (specifier === 'fake-indexeddb' || specifier.startsWith('fake-indexeddb/')) {
    const e = new Error(\`Cannot find package '\${specifier}' imported from \${context.parentURL}\`);
    e.code = 'ERR_MODULE_NOT_FOUND';
    throw e;
  }
  return next(specifier, context);
}
`,
);
const register = join(tmp, 'register.mjs');
writeFileSync(
  register,
  `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`,
);

let hq: StartedEmulator;
beforeEach(async () => {
  hq = await startEmulator();
});
afterEach(async () => {
  await hq.close();
});

const cli = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { FIELDSIM_SERVER: hq.url, ...env }, ['--import', register]);

function json<T>(r: CliRun): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.status}): ${r.stdout}\n${r.stderr}`);
  }
}

/** The smoke example against the emulator, as its demo admin. */
const smoke = (env: Record<string, string> = {}) =>
  cli(
    [
      'run',
      join(EXAMPLES, 'smoke.yaml'),
      '--server',
      hq.url,
      '--admin-user',
      'admin@example.com',
      '--admin-api-key',
      'fieldsim-demo-key',
      '--no-progress',
    ],
    env,
  );

describe('the CLI without fake-indexeddb', { timeout: 300_000 }, () => {
  it('the hook hides the package as a missing one', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        register,
        '--input-type=module',
        '-e',
        "try { await import('fake-indexeddb'); console.log('found') } catch (e) { console.log(e.code) }",
      ],
      { encoding: 'utf8' },
    );
    expect(r.stdout.trim()).toBe('ERR_MODULE_NOT_FOUND');
  });

  it('login, cases, submit, restore, sync, restore-file and a runner scenario all work', async () => {
    const env = { FIELDSIM_STATE: join(tmp, 'state'), FIELDSIM_PASSWORD: 'fieldsim' };
    const login = await cli(['login', '--domain', 'demo', '--user', 'worker1', '--json'], env);
    expect(login.status, login.stderr).toBe(0);
    expect(json<{ cases: { open: number } }>(login).cases.open).toBe(25);

    const cases = json<{ total: number; cases: { caseId: string; caseType: string }[] }>(
      await cli(['cases', '--type', 'household', '--json'], env),
    );
    expect(cases.cases.length).toBeGreaterThan(0);

    const sub = await cli(
      ['submit', '--new-case', '--type', 'member', '--name', 'No Fidb', '--prop', 'age=3', '--json'],
      env,
    );
    expect(sub.status, sub.stderr).toBe(0);
    const sj = json<{ caseId: string; state: string }>(sub);
    expect(sj.state).toBe('sent');
    const onServer = hq.app.db.prepare('SELECT name FROM cases WHERE case_id = ?').get(sj.caseId);
    expect(onServer).toEqual({ name: 'No Fidb' });

    const restore = await cli(['restore', '--json'], env);
    expect(restore.status, restore.stderr).toBe(0);
    const sync = await cli(['sync', '--json'], env);
    expect(sync.status, sync.stderr).toBe(0);
    const found = json<{ cases: { caseId: string }[] }>(
      await cli(['cases', '--search', 'no fidb', '--json'], env),
    );
    expect(found.cases.map((c) => c.caseId)).toEqual([sj.caseId]);

    const file = await cli(['restore-file', join(SAMPLES, 'commcare-core/case_create_basic.xml'), '--json']);
    expect(file.status, file.stderr).toBe(0);
    expect(json<{ cases: { total: number } }>(file).cases.total).toBeGreaterThan(0);

    const run = await smoke();
    expect(run.status, `${run.stderr}\n${run.stdout}`).toBe(0);
  });

  it('FIELDSIM_RUNNER_STORE=fake-indexeddb is a usage error naming the package', async () => {
    const run = await smoke({ FIELDSIM_RUNNER_STORE: 'fake-indexeddb' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('FIELDSIM_RUNNER_STORE=fake-indexeddb needs the npm package fake-indexeddb');
    expect(run.stdout).toBe('');
  });

  it('an old snapshot state folder migrates to SQLite without the package', async () => {
    const record = testSessionRecord();
    // Written as an earlier fieldsim did: the whole fake-indexeddb database in db.snapshot
    // (this test process has the package; the migrating process below does not).
    const state = new StateStore(join(tmp, 'old-state')).open(record, 'test');
    const factory = new IDBFactory();
    const old = await openSession({ indexedDB: factory, IDBKeyRange }, record);
    const c = await old.registerCase({ caseType: 'household', caseName: 'Old times' });
    await state.saveFrom(factory);
    old.close();
    const dir = dirname(state.dbPath);
    try {
      const migrate = pathToFileURL(
        resolve(import.meta.dirname, '../../src/cli/state/migrate-snapshot.ts'),
      ).href;
      const r = spawnSync(
        process.execPath,
        [
          '--import',
          register,
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          `const { migrateSnapshot } = await import(${JSON.stringify(migrate)}); console.log(await migrateSnapshot(${JSON.stringify(dir)}))`,
        ],
        { encoding: 'utf8', cwd: resolve(import.meta.dirname, '../..') },
      );
      expect(r.stdout.trim(), r.stderr).toBe('true');
      const store = SqliteStore.open(state.dbPath);
      const s = await openSession(store.deps(), record);
      try {
        expect((await s.getCase(c.caseId))?.caseName).toBe('Old times');
        expect((await s.listOutbox()).length).toBe(1);
      } finally {
        s.close();
        store.close();
      }
    } finally {
      state.release();
    }
  });
});
