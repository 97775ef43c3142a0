import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/cli/runner/report.ts';
import { runCli } from '../helpers/run-cli.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';

/**
 * The QA runner on the demo app's real XForms (issue 12): `submit_form` downloads the app
 * from the emulator's phone endpoints, fills the form with the engine (casedb preloads,
 * computed case ids, the form's own case blocks) and the server processes what the
 * XForm produced, not a form fieldsim made up.
 */
const ADMIN = ['--admin-user', 'admin@example.com', '--admin-api-key', 'fieldsim-demo-key'];
const tmp = mkdtempSync(join(tmpdir(), 'fieldsim-runner-app-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let hq: StartedEmulator | undefined;
afterEach(async () => {
  await hq?.close();
  hq = undefined;
});

const cli = runCli;

interface CaseRow {
  case_id: string;
  case_type: string;
  name: string;
  owner_id: string;
  properties: string;
  indices: string;
}

describe('fieldsim run with the real demo app', () => {
  it('registers, follows up and adds a member through the XForms; the server holds what the forms did', async () => {
    hq = await startEmulator();
    const scenario = join(tmp, 'real-app.yaml');
    writeFileSync(
      scenario,
      `name: real-app
domain: demo
seed: 7
workers:
  count: 2
  users: { list: [worker1, worker2], password: fieldsim }
steps:
  - login
  - restore: { retries: 2, retry_wait: 100ms }
  - submit_form: { form: "Register household", answers: { household_name: "Real {{user}}", household_size: "4" } }
  - submit_form: { form: "Follow up", case: last_created, answers: { last_visit_notes: "first visit" } }
  - submit_form: { form: "Register member", parent: last_created, answers: { member_name: "Member of {{user}}" } }
  - sync
  - assert_local: { outbox: { pending: 0, quarantined: 0, sent: 3 } }
  - assert_server: { forms: { user: self, count: sent } }
`,
    );
    const json = join(tmp, 'real-app.json');
    const r = await cli([
      'run',
      scenario,
      '--server',
      hq.url,
      ...ADMIN,
      '--report-json',
      json,
      '--no-progress',
    ]);
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8')) as RunReport;
    expect(report.errors).toEqual([]);
    expect(report.assertions.failed).toBe(0);

    const db = hq.app.db;
    for (const user of ['worker1', 'worker2']) {
      const hh = db
        .prepare("SELECT * FROM cases WHERE domain = 'demo' AND case_type = 'household' AND name = ?")
        .get(`Real ${user}`) as CaseRow | undefined;
      expect(hh, `household of ${user}`).toBeDefined();
      const props = JSON.parse((hh as CaseRow).properties) as Record<string, string>;
      // Registration set the size; the follow-up's case block set the visit count and notes.
      expect(props.household_size).toBe('4');
      expect(props.last_visit_notes).toBe('first visit');
      expect(props.visit_count).toBe('1');
      const member = db
        .prepare("SELECT * FROM cases WHERE domain = 'demo' AND case_type = 'member' AND name = ?")
        .get(`Member of ${user}`) as CaseRow | undefined;
      expect(member, `member of ${user}`).toBeDefined();
      const indices = JSON.parse((member as CaseRow).indices) as {
        case_id?: string;
        referenced_id?: string;
      }[];
      expect(JSON.stringify(indices)).toContain((hh as CaseRow).case_id);
    }
    // Every stored form is one the engine wrote: the demo app's xmlns, HQ-style meta.
    // (The demo seed's case-import form aside: its xmlns is HQ's system one.)
    const forms = db
      .prepare("SELECT xmlns, xml FROM forms WHERE domain = 'demo' AND xmlns <> 'http://commcarehq.org/case'")
      .all() as {
      xmlns: string;
      xml: string;
    }[];
    expect(forms.length).toBeGreaterThanOrEqual(6);
    for (const f of forms) {
      expect(f.xmlns).toMatch(/^http:\/\/fieldsim\.dev\/demo\//);
      expect(f.xml).toContain('<cc:appVersion>fieldsim runner, fieldsim demo build');
    }
  });
});
