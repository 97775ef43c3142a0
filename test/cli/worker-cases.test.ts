import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type SessionRecord, StateStore } from '../../src/cli/state/state-store.ts';
import { openSession } from '../../src/cli/worker-session.ts';
import { cliInProcess } from '../helpers/cli-in-process.ts';

/**
 * `fieldsim cases` and `outbox` listings, in process, on a state folder prepared offline:
 * a worker who saved forms (registrations, a child, a close) without ever reaching a server.
 */
const dir = mkdtempSync(join(tmpdir(), 'fieldsim-cases-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  process.exitCode = undefined;
});

const record: SessionRecord = {
  format: 'fieldsim-cli-session',
  version: 1,
  server: 'http://127.0.0.1:8000',
  domain: 'demo',
  username: 'worker1@demo.commcarehq.org',
  userId: 'me',
  deviceId: 'fieldsim-dev',
  auth: 'password',
  loggedInAt: '2026-01-01T00:00:00Z',
};
const ids: Record<string, string> = {};

beforeAll(async () => {
  const store = new StateStore(dir);
  const state = store.open(record, 'setup');
  const db = await state.openStore();
  const s = await openSession(db.deps(), record);
  ids.alpha = (
    await s.registerCase({ caseType: 'household', caseName: 'Alpha', properties: { village: 'north' } })
  ).caseId;
  ids.beta = (
    await s.registerCase({ caseType: 'household', caseName: 'Beta', properties: { village: 'south' } })
  ).caseId;
  ids.gamma = (
    await s.registerCase({
      caseType: 'member',
      caseName: 'Gamma',
      ownerId: 'other',
      parent: { caseId: ids.alpha, caseType: 'household' },
    })
  ).caseId;
  await s.closeCase({ caseId: ids.beta });
  state.writeSession(record);
  store.writeCurrent(record);
  s.close();
  db.close();
  state.release();
});

async function cli(...args: string[]): Promise<{ status: number; out: unknown; text: string }> {
  const r = await cliInProcess([...args, '--state', dir]);
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(r.stdout);
  } catch {
    // human output
  }
  return { status: r.status, out: parsed, text: r.stdout };
}

function names(r: { out: unknown }): string[] {
  return (r.out as { cases: { caseName: string }[] }).cases.map((c) => c.caseName);
}

describe('fieldsim cases (offline, from the state folder)', () => {
  it('filters by status, type, owner, name prefix and property; pages and sorts', async () => {
    expect(names(await cli('cases', '--json'))).toEqual(['Alpha', 'Gamma']);
    expect(names(await cli('cases', '--status', 'closed', '--json'))).toEqual(['Beta']);
    expect(names(await cli('cases', '--status', 'all', '--type', 'household', '--json'))).toEqual([
      'Alpha',
      'Beta',
    ]);
    expect(names(await cli('cases', '--owner', 'other', '--json'))).toEqual(['Gamma']);
    expect(names(await cli('cases', '--search', 'GA', '--json'))).toEqual(['Gamma']);
    expect(names(await cli('cases', '--status', 'all', '--property', 'village=south', '--json'))).toEqual([
      'Beta',
    ]);
    const page = await cli('cases', '--status', 'all', '--limit', '1', '--offset', '1', '--json');
    expect(page.out).toMatchObject({ total: 3, offset: 1, limit: 1 });
    expect(names(page)).toEqual(['Beta']);
    const human = await cli('cases', '--status', 'all');
    expect(human.status).toBe(0);
    expect(human.text).toContain('3 case(s); showing 1-3');
    expect(human.text).toMatch(new RegExp(`${ids.beta}\\s+household\\s+closed\\s+Beta`));
  });

  it('cases show: properties, parents, children and the local forms that touched it', async () => {
    const alpha = await cli('cases', 'show', ids.alpha as string, '--json');
    expect(alpha.status).toBe(0);
    expect(alpha.out).toMatchObject({
      case: { caseName: 'Alpha', properties: { village: 'north' } },
      parents: [],
      children: [{ identifier: 'parent', relationship: 'child', caseId: ids.gamma, caseName: 'Gamma' }],
      forms: [{ formName: 'Register household', state: 'queued' }],
    });
    const gamma = await cli('cases', 'show', ids.gamma as string, '--json');
    expect(gamma.out).toMatchObject({
      parents: [{ identifier: 'parent', caseId: ids.alpha, caseName: 'Alpha', found: true, closed: false }],
    });
    const beta = await cli('cases', 'show', ids.beta as string);
    expect(beta.text).toContain('Beta (household, closed)');
    expect(beta.text).toContain('village = south');
    expect((await cli('cases', 'show', 'no-such-case')).status).toBe(2);
  });

  it('outbox lists the four forms in order, filters by state, shows XML', async () => {
    const all = await cli('outbox', '--json');
    const forms = (
      all.out as { forms: { seq: number; state: string; formName: string; instanceId: string }[] }
    ).forms;
    expect(forms.map((f) => [f.seq, f.state])).toEqual([
      [1, 'queued'],
      [2, 'queued'],
      [3, 'queued'],
      [4, 'queued'],
    ]);
    expect(all.out).toMatchObject({ counts: { queued: 4, sent: 0, quarantined: 0 } });
    expect((await cli('outbox', '--status', 'sent,quarantined', '--json')).out).toMatchObject({ forms: [] });
    const xml = await cli('outbox', 'show', forms[3]?.instanceId as string);
    expect(xml.text).toContain('<close/>');
    expect((await cli('outbox', '--status', 'lost')).status).toBe(2);
  });
});
