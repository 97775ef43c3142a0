import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenRosaTestServer, startOpenRosaServer } from '../helpers/openrosa-server.ts';
import { runCli } from '../helpers/run-cli.ts';

const HOUSEHOLD = readFileSync(new URL('../fixtures/openrosa/household.xml', import.meta.url), 'utf8');
const CREDS = { FIELDSIM_OPENROSA_USER: 'collector@example.org', FIELDSIM_OPENROSA_PASSWORD: 'secret' };

let server: OpenRosaTestServer;
const dir = mkdtempSync(join(tmpdir(), 'fieldsim-openrosa-cli-'));
beforeAll(async () => {
  server = await startOpenRosaServer({
    forms: [{ formId: 'household', xml: HOUSEHOLD }],
    users: { 'collector@example.org': 'secret' },
    tokens: ['tok-9'],
  });
});
afterAll(() => server.close());

// Each CLI run is a child process (several seconds on a loaded machine).
describe('fieldsim formlist / form fill / submit --openrosa against an ODK Central-like server', {
  timeout: 90_000,
}, () => {
  it('formlist lists the forms with the env credentials; a wrong password exits 1 with auth-invalid', async () => {
    const ok = await runCli(['formlist', '--openrosa', `${server.projectUrl}/formList`, '--json'], CREDS);
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({
      server: server.projectUrl,
      forms: [
        expect.objectContaining({ formId: 'household', name: 'Household survey', version: '2024010101' }),
      ],
    });
    const bad = await runCli(['formlist', '--openrosa', server.projectUrl, '--json'], {
      ...CREDS,
      FIELDSIM_OPENROSA_PASSWORD: 'nope',
    });
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout)).toEqual({
      error: expect.objectContaining({ code: 'auth-invalid', status: 401 }),
    });
  });

  it('form fill writes the instance before sending, submits it; the same file again is an identical resend', async () => {
    const out = join(dir, 'hh.xml');
    const r = await runCli(
      [
        'form',
        'fill',
        'household',
        '--openrosa',
        server.appUserUrl('tok-9'),
        '--answer',
        'head_name=Amina',
        '--answer',
        'members=4',
        '--auto',
        '--out',
        out,
        '--submit',
        '--device-id',
        'collect:abc',
        '--json',
      ],
      {},
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({
      formId: 'household',
      version: '2024010101',
      file: out,
      submitted: { state: 'sent', outcome: { status: 'accepted', httpStatus: 201 } },
    });
    expect(readFileSync(out, 'utf8')).toContain('<head_name>Amina</head_name>');
    expect(server.submissions).toEqual([
      expect.objectContaining({ instanceId: json.instanceId, deviceId: 'collect:abc', actor: 'token:tok-9' }),
    ]);

    const again = await runCli(['submit', '--openrosa', server.projectUrl, '--xml', out, '--json'], CREDS);
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ state: 'sent', instanceId: json.instanceId });
    expect(server.submissions).toHaveLength(1);

    // Edited after sending, same instanceID: the server's 409 is a typed conflict, exit 1.
    const edited = join(dir, 'edited.xml');
    writeFileSync(edited, readFileSync(out, 'utf8').replace('Amina', 'Zawadi'));
    const conflict = await runCli(
      ['submit', '--openrosa', server.projectUrl, '--xml', edited, '--json'],
      CREDS,
    );
    expect(conflict.status).toBe(1);
    expect(JSON.parse(conflict.stdout)).toMatchObject({
      state: 'quarantined',
      outcome: {
        status: 'rejected',
        reason: 'conflict',
        httpStatus: 409,
        message: `A resource already exists with instanceID value(s) of ${json.instanceId}.`,
      },
    });
  });

  it('form fill with an answer the form refuses exits 1 naming the question; submit --openrosa without --xml is usage (2)', async () => {
    const r = await runCli(
      ['form', 'fill', 'household', '--openrosa', server.projectUrl, '--answer', 'members=99', '--json'],
      CREDS,
    );
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      formId: 'household',
      errors: expect.arrayContaining([
        { ref: '/data/members', code: 'constraint', message: 'Between 1 and 29' },
      ]),
    });
    const usage = await runCli(['submit', '--openrosa', server.projectUrl], CREDS);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('--xml');
  });
});
