import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliInProcess } from '../helpers/cli-in-process.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';

/**
 * The worker commands' `--as` (a web user logs in as a mobile worker; PROTOCOL.md 3.2) and
 * `submit --attach`, in process against the emulator on a loopback port: the emulator's
 * forms and attachments are read back from its database and its form API.
 */

const tmp = mkdtempSync(join(tmpdir(), 'fieldsim-cli-as-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const ENV = ['FIELDSIM_SERVER', 'FIELDSIM_PASSWORD', 'FIELDSIM_AS', 'FIELDSIM_STATE', 'FIELDSIM_USER'];
let savedEnv: Record<string, string | undefined> = {};
let hq: StartedEmulator;
let state = '';
beforeEach(async () => {
  savedEnv = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
  for (const k of ENV) delete process.env[k];
  hq = await startEmulator();
  state = mkdtempSync(join(tmp, 'state-'));
  process.env.FIELDSIM_SERVER = hq.url;
  process.env.FIELDSIM_STATE = state;
});
afterEach(async () => {
  await hq.close();
  for (const k of ENV) {
    const v = savedEnv[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  process.exitCode = undefined;
});

interface Run {
  status: number;
  out: Record<string, unknown>;
  stderr: string;
}

async function cli(...args: string[]): Promise<Run> {
  const r = await cliInProcess([...args, '--json']);
  // commander's own usage errors (bad option values) print text only, even with --json.
  let out: Record<string, unknown> = {};
  try {
    out = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    if (r.status !== 2) throw new Error(`not JSON (exit ${r.status}): ${r.stdout}\n${r.stderr}`);
  }
  return { status: r.status, out, stderr: r.stderr };
}

function userId(username: string): string {
  return (hq.app.db.prepare('SELECT id FROM users WHERE username = ?').get(username) as { id: string }).id;
}

function serverForm(instanceId: string) {
  return hq.app.db
    .prepare('SELECT username, user_id, auth_user_id FROM forms WHERE form_id = ?')
    .get(instanceId) as { username: string; user_id: string; auth_user_id: string } | undefined;
}

async function firstHousehold(): Promise<string> {
  const r = await cli('cases', '--type', 'household', '--limit', '1');
  return (r.out.cases as { caseId: string }[])[0]?.caseId ?? '';
}

const ADMIN = 'admin@example.com';
const WORKER1 = 'worker1@demo.commcarehq.org';

describe('fieldsim --as (login as)', () => {
  it("a web user logs in as worker1: worker1's cases, forms in worker1's name, a state of its own", async () => {
    process.env.FIELDSIM_PASSWORD = 'fieldsim';
    const worker1Id = userId(WORKER1);
    const adminId = userId(ADMIN);

    const login = await cli('login', '--domain', 'demo', '--user', ADMIN, '--as', 'worker1');
    expect(login.status).toBe(0);
    expect(login.out).toMatchObject({
      user: { username: WORKER1, userId: worker1Id, auth: 'password' },
      loginAs: { user: ADMIN, as: WORKER1 },
      restore: { mode: 'full' },
      cases: { open: 25 },
    });

    // The pair's state is encrypted with the web user's password: without it, locked.
    delete process.env.FIELDSIM_PASSWORD;
    const locked = await cli('cases', '--type', 'household');
    expect(locked.out.error).toMatchObject({ code: 'data-locked' });
    process.env.FIELDSIM_PASSWORD = 'fieldsim';

    // Later commands default to the pair (no --user, no --as), and say who acts for whom.
    const listed = await cli('cases', '--type', 'household');
    expect(listed.status).toBe(0);
    expect(listed.out.loginAs).toEqual({ user: ADMIN, as: WORKER1 });
    expect(listed.stderr).toContain(`${ADMIN} acting as ${WORKER1}`);

    const sub = await cli('submit', '--new-case', '--type', 'household', '--name', 'Registered As');
    expect(sub.status).toBe(0);
    expect(sub.out).toMatchObject({ state: 'sent', loginAs: { user: ADMIN, as: WORKER1 } });
    const instanceId = sub.out.instanceId as string;
    expect(serverForm(instanceId)).toEqual({
      username: 'worker1',
      user_id: worker1Id,
      auth_user_id: adminId,
    });
    const caseId = sub.out.caseId as string;
    expect(hq.app.db.prepare('SELECT owner_id FROM cases WHERE case_id = ?').get(caseId)).toEqual({
      owner_id: worker1Id,
    });

    // worker1's own login in the same folder is another state: it has not got the form.
    const own = await cli('login', '--user', 'worker1');
    expect(own.status).toBe(0);
    expect(own.out.loginAs).toBeUndefined();
    expect(((await cli('outbox', '--user', 'worker1')).out.forms as unknown[]).length).toBe(0);
    const dirs = readdirSync(join(state, 'users')).sort();
    expect(dirs).toHaveLength(2);
    expect(dirs.filter((d) => d.includes('-as-worker1@demo.commcarehq.org-'))).toHaveLength(1);

    // FIELDSIM_AS picks the pair again; its outbox has the sent form; sync keeps the case.
    process.env.FIELDSIM_AS = 'worker1';
    const asOutbox = await cli('outbox', '--user', ADMIN);
    expect((asOutbox.out.forms as { instanceId: string; state: string }[]).map((f) => f.state)).toEqual([
      'sent',
    ]);
    const sync = await cli('sync', '--user', ADMIN);
    expect(sync.status).toBe(0);
    const shown = await cli('cases', 'show', caseId, '--user', ADMIN);
    expect(shown.out).toMatchObject({ case: { caseName: 'Registered As' } });

    // Nothing secret in the state folder.
    for (const d of dirs)
      expect(readFileSync(join(state, 'users', d, 'session.json'), 'utf8')).not.toContain('fieldsim"');
  });

  it("with the web user's API key: the restore checks the key and as=, forms are worker1's", async () => {
    const worker1Id = userId(WORKER1);
    const key = ['--api-key', 'fieldsim-demo-key'];
    // An API key cannot encrypt the state: a plain one, asked for (docs/cli.md).
    const login = await cli(
      'login',
      '--domain',
      'demo',
      '--user',
      ADMIN,
      '--as',
      'worker1',
      ...key,
      '--plain-state',
    );
    expect(login.status).toBe(0);
    expect(login.out).toMatchObject({
      user: { username: WORKER1, userId: worker1Id, auth: 'api-key' },
      loginAs: { user: ADMIN, as: WORKER1 },
      cases: { open: 25 },
    });
    const sub = await cli('submit', '--close-case', await firstHousehold(), ...key);
    expect(sub.out).toMatchObject({ state: 'sent' });
    expect(serverForm(sub.out.instanceId as string)).toMatchObject({
      username: 'worker1',
      user_id: worker1Id,
    });
    // A wrong key fails on the restore of an existing state too (API keys are always checked).
    const wrong = await cli('login', '--api-key', 'not-the-key', '--plain-state');
    expect(wrong.status).toBe(1);
    expect(wrong.out.error).toMatchObject({ code: 'auth-invalid' });
  });

  it('refuses --as naming the user itself, and a mobile worker without the permission', async () => {
    process.env.FIELDSIM_PASSWORD = 'fieldsim';
    const self = await cli('login', '--domain', 'demo', '--user', 'worker1', '--as', WORKER1);
    expect(self.status).toBe(2);
    const denied = await cli('login', '--domain', 'demo', '--user', 'worker2', '--as', 'worker1');
    expect(denied.status).toBe(1);
    expect((denied.out.error as { status?: number }).status).toBeGreaterThanOrEqual(400);
    // A failed first login keeps nothing.
    expect(readdirSync(join(state, 'users'))).toEqual([]);
  });
});

describe('fieldsim submit --attach', () => {
  it('sends the files as the parts the form names; the emulator stores them', async () => {
    process.env.FIELDSIM_PASSWORD = 'fieldsim';
    expect((await cli('login', '--domain', 'demo', '--user', 'worker1')).status).toBe(0);
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 0xff, 0xd9]);
    const photo = join(tmp, 'IMG_0042.jpg');
    writeFileSync(photo, jpeg);
    const sound = join(tmp, 'note.wav');
    writeFileSync(sound, Buffer.from('RIFF....WAVEfmt '));

    const sub = await cli(
      'submit',
      '--new-case',
      '--type',
      'household',
      '--name',
      'With photo',
      '--prop',
      'photo=front.jpg',
      '--prop',
      'voice=note.wav',
      '--attach',
      `front.jpg=${photo}`,
      '--attach',
      `note.wav=${sound}`,
    );
    expect(sub.status).toBe(0);
    expect(sub.out).toMatchObject({
      state: 'sent',
      attachments: [
        { name: 'front.jpg', type: 'image/jpeg', size: jpeg.length },
        { name: 'note.wav', type: 'audio/wav', size: 16 },
      ],
    });
    const id = sub.out.instanceId as string;
    const rows = hq.app.db
      .prepare('SELECT name, content_type, data FROM form_attachments WHERE form_id = ? ORDER BY name')
      .all(id) as { name: string; content_type: string; data: Buffer }[];
    expect(rows.map((r) => [r.name, r.content_type])).toEqual([
      ['front.jpg', 'image/jpeg'],
      ['note.wav', 'audio/wav'],
    ]);
    expect(Buffer.compare(rows[0]?.data ?? Buffer.alloc(0), jpeg)).toBe(0);

    // HQ's form API lists it and serves the same bytes.
    const auth = { authorization: `Basic ${Buffer.from(`${ADMIN}:fieldsim`).toString('base64')}` };
    const form = (await (await fetch(`${hq.url}/a/demo/api/v0.5/form/${id}/`, { headers: auth })).json()) as {
      attachments: Record<string, { content_type: string; length: number; url: string }>;
    };
    expect(form.attachments['front.jpg']).toMatchObject({ content_type: 'image/jpeg', length: jpeg.length });
    const got = await fetch(new URL(form.attachments['front.jpg']?.url ?? '', hq.url), { headers: auth });
    expect(Buffer.compare(Buffer.from(await got.arrayBuffer()), jpeg)).toBe(0);

    // The outbox keeps the file with the form (it would be resent with it).
    const shown = await cli('outbox', 'show', id);
    expect(shown.out.xml).toContain('<photo>front.jpg</photo>');
  });

  it('an offline submit keeps the file in the state folder; the later outbox send delivers it', async () => {
    process.env.FIELDSIM_PASSWORD = 'fieldsim';
    expect((await cli('login', '--domain', 'demo', '--user', 'worker1')).status).toBe(0);
    const pdf = Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF\n', 'latin1');
    const file = join(tmp, 'consent.pdf');
    writeFileSync(file, pdf);
    const sub = await cli(
      'submit',
      '--update-case',
      await firstHousehold(),
      '--prop',
      'consent=consent.pdf',
      '--attach',
      `consent.pdf=${file}`,
      '--offline',
    );
    expect(sub.out).toMatchObject({
      state: 'queued',
      attachments: [{ name: 'consent.pdf', type: 'application/pdf' }],
    });
    rmSync(file);
    // Each command reloads the state from disk: the file travels in the snapshot.
    const sent = await cli('outbox', 'send');
    expect(sent.out).toMatchObject({ send: { sent: 1, remaining: 0 } });
    const row = hq.app.db
      .prepare('SELECT content_type, data FROM form_attachments WHERE form_id = ? AND name = ?')
      .get(sub.out.instanceId as string, 'consent.pdf') as { content_type: string; data: Buffer };
    expect(row.content_type).toBe('application/pdf');
    expect(Buffer.compare(row.data, pdf)).toBe(0);
  });

  it('usage errors before saving: unnamed in the form, unreadable, twice; over the limit: submission-too-large', async () => {
    process.env.FIELDSIM_PASSWORD = 'fieldsim';
    expect((await cli('login', '--domain', 'demo', '--user', 'worker1')).status).toBe(0);
    const photo = join(tmp, 'p.jpg');
    writeFileSync(photo, 'x');
    const base = ['submit', '--new-case', '--type', 'household', '--name', 'N', '--offline'];

    const orphan = await cli(...base, '--attach', `p.jpg=${photo}`);
    expect(orphan.status).toBe(2);
    expect((orphan.out.error as { message: string }).message).toMatch(/--prop photo=p\.jpg/);
    const missing = await cli(...base, '--prop', 'photo=p.jpg', '--attach', `p.jpg=${join(tmp, 'nope.jpg')}`);
    expect(missing.status).toBe(2);
    expect((missing.out.error as { message: string }).message).toContain('ENOENT');
    const twice = await cli(
      ...base,
      '--prop',
      'photo=p.jpg',
      '--attach',
      `p.jpg=${photo}`,
      '--attach',
      `p.jpg=${photo}`,
    );
    expect(twice.status).toBe(2);
    expect(twice.stderr).toContain('p.jpg is attached twice');
    const folder = await cli(...base, '--prop', 'photo=a/b.jpg', '--attach', `a/b.jpg=${photo}`);
    expect(folder.status).toBe(2);
    expect(folder.stderr).toContain('without folders');

    const big = join(tmp, 'big.jpg');
    writeFileSync(big, Buffer.alloc(15 * 1024 * 1024 + 1));
    const tooBig = await cli(...base, '--prop', 'photo=big.jpg', '--attach', `big.jpg=${big}`);
    expect(tooBig.status).toBe(1);
    expect(tooBig.out.error).toMatchObject({ code: 'submission-too-large' });
    expect((tooBig.out.error as { message: string }).message).toContain('big.jpg');
    rmSync(big);

    // None of these saved a form.
    expect((await cli('outbox')).out.forms).toEqual([]);
  });
});
