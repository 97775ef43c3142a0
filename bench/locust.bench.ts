/**
 * fieldsim's QA runner next to Locust (what Dimagi's commcare-perf drives HQ with), on the
 * same workload against the same emulator process (issue 15 part 5): N workers each log in
 * (SSO), restore their 50 cases and submit 20 case-creating forms.
 *
 * Each tool runs as its own process under GNU time (user+system CPU, peak RSS), twice: with
 * a small and a large N. The difference between the two runs removes each tool's start-up
 * cost (Python and gevent, Node and the CLI), so the figures compare what one more form and
 * one more worker cost each tool:
 *   CPU per form = (cpu(Nlarge) - cpu(Nsmall)) / (forms(Nlarge) - forms(Nsmall))
 *   memory per extra worker = (peakRss(Nlarge) - peakRss(Nsmall)) / (Nlarge - Nsmall)
 * Locust does less per form than fieldsim (no case database, no outbox, no XML parse of the
 * restore; the locustfile posts a fixed template): the comparison is of the whole client.
 *
 * Needs `locust` on PATH (Debian: `apt-get install python3-locust`); without it the bench
 * says so and records nulls. Run: `BENCH_ONLY=locust npm run bench [-- --write]`, or
 * `npx tsx bench/locust.bench.ts [--small 20] [--large 100] [--write]`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createEmulator } from '../src/server/emulator.ts';
import { seedLoadUsers } from '../src/server/seed/load-users.ts';
import { spawnEmulatorProcess } from './emulator-process.ts';
import { appendToResults, runHeading, writeJsonIfAsked } from './results-file.ts';
import { machine } from './server.bench.ts';

const FORMS = 20;
const CASES = 50;
const repo = resolve(import.meta.dirname, '..');

interface ToolRun {
  workers: number;
  forms: number;
  cpuSeconds: number;
  peakRssMb: number;
  wallSeconds: number;
}

/** Runs `argv` under GNU time; returns its CPU seconds and peak RSS, and the output. */
function timed(argv: string[], cwd: string): { cpu: number; rssMb: number; wall: number; out: string } {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %U %S %M', ...argv], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
  });
  const wall = (performance.now() - t0) / 1000;
  const out = `${r.stdout}\n${r.stderr}`;
  const m = /TIME ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  if (!m) throw new Error(`${argv[0]} did not finish (status ${r.status}): ${out.slice(-2000)}`);
  return { cpu: Number(m[1]) + Number(m[2]), rssMb: Number(m[3]) / 1024, wall, out };
}

/**
 * One HttpUser per worker, doing the sequence once: SSO, full restore, 20 forms each
 * registering a case, as the runner's create_case does. The last user to finish stops
 * the run, so the process ends when the work is done.
 */
function locustfile(workers: number): string {
  return `
import uuid, datetime, gevent
from locust import HttpUser, task, events
from locust.exception import StopUser

done = {"n": 0, "forms": 0}
NS = "http://commcarehq.org/case/transaction/v2"

def form(user_id, username, n):
    now = datetime.datetime.utcnow().isoformat() + "Z"
    case_id = str(uuid.uuid4())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<data xmlns="http://fieldsim.dev/bench/register" xmlns:jrm="http://dev.commcarehq.org/jr/xforms">'
        f'<household_name>Locust {username} {n}</household_name>'
        f'<case xmlns="{NS}" case_id="{case_id}" date_modified="{now}" user_id="{user_id}">'
        f'<create><case_type>household</case_type><case_name>Locust {username} {n}</case_name><owner_id>{user_id}</owner_id></create>'
        '<update><village>riverside</village></update></case>'
        '<orx:meta xmlns:orx="http://openrosa.org/jr/xforms"><orx:deviceID>locust</orx:deviceID>'
        f'<orx:timeStart>{now}</orx:timeStart><orx:timeEnd>{now}</orx:timeEnd>'
        f'<orx:username>{username}</orx:username><orx:userID>{user_id}</orx:userID>'
        f'<orx:instanceID>{uuid.uuid4()}</orx:instanceID></orx:meta></data>'
    )

class Worker(HttpUser):
    counter = 0

    def on_start(self):
        Worker.counter += 1
        self.username = f"load{Worker.counter}"
        self.login = f"{self.username}@demo.commcarehq.org"

    @task
    def work(self):
        r = self.client.post("/a/demo/api/v0.5/sso/", data={"username": self.username, "password": "fieldsim"}, name="sso")
        user_id = r.json()["id"]
        auth = (self.login, "fieldsim")
        self.client.get("/a/demo/phone/restore/?version=2.0&device_id=locust", auth=auth, name="restore")
        for n in range(${FORMS}):
            xml = form(user_id, self.username, n)
            r = self.client.post("/a/demo/receiver/", files={"xml_submission_file": ("form.xml", xml, "text/xml")},
                                 auth=auth, headers={"X-OpenRosa-Version": "3.0"}, name="receiver")
            if r.status_code == 201:
                done["forms"] += 1
        done["n"] += 1
        if done["n"] >= ${workers}:
            print(f"LOCUST_FORMS {done['forms']}", flush=True)
            gevent.spawn_later(0.1, self.environment.runner.quit)
        raise StopUser()
`;
}

function scenario(workers: number): string {
  return `
name: locust-compare-${workers}
domain: demo
seed: 1
workers: { count: ${workers}, users: { prefix: load, password: fieldsim } }
steps:
  - login
  - restore
  - repeat: ${FORMS}
    steps:
      - create_case: { type: household, name: "Runner {{worker}}-{{i}}", properties: { village: riverside } }
  - send
`;
}

function runLocust(dir: string, url: string, workers: number): ToolRun {
  const file = join(dir, `locust-${workers}.py`);
  writeFileSync(file, locustfile(workers));
  const t = timed(
    [
      'locust',
      '-f',
      file,
      '--headless',
      '-u',
      String(workers),
      '-r',
      String(workers),
      '--run-time',
      '600s',
      '--host',
      url,
      '--only-summary',
      '--loglevel',
      'WARNING',
    ],
    dir,
  );
  const forms = Number(/LOCUST_FORMS (\d+)/.exec(t.out)?.[1] ?? Number.NaN);
  return { workers, forms, cpuSeconds: t.cpu, peakRssMb: t.rssMb, wallSeconds: t.wall };
}

function runRunner(dir: string, url: string, workers: number, extra: string[] = []): ToolRun {
  const file = join(dir, `runner-${workers}.yaml`);
  const report = join(dir, `runner-${workers}.json`);
  writeFileSync(file, scenario(workers));
  const t = timed(
    [
      process.execPath,
      join(repo, 'bin/fieldsim.js'),
      'run',
      file,
      '--server',
      url,
      '--report-json',
      report,
      ...extra,
    ],
    dir,
  );
  const json = JSON.parse(readFileSync(report, 'utf8')) as { workers: { formsSent: number } };
  return {
    workers,
    forms: json.workers.formsSent,
    cpuSeconds: t.cpu,
    peakRssMb: t.rssMb,
    wallSeconds: t.wall,
  };
}

function locustAvailable(): boolean {
  return spawnSync('locust', ['--version'], { encoding: 'utf8' }).status === 0;
}

export interface LocustCompare {
  small: number;
  large: number;
  locust: { small: ToolRun; large: ToolRun; cpuMsPerForm: number; mbPerExtraWorker: number } | null;
  runner: { small: ToolRun; large: ToolRun; cpuMsPerForm: number; mbPerExtraWorker: number };
  /** runner CPU per form / Locust's (target <= 1). */
  cpuRatio: number | null;
  machine: string;
}

function marginal(small: ToolRun, large: ToolRun) {
  return {
    small,
    large,
    cpuMsPerForm: ((large.cpuSeconds - small.cpuSeconds) * 1000) / (large.forms - small.forms),
    mbPerExtraWorker: (large.peakRssMb - small.peakRssMb) / (large.workers - small.workers),
  };
}

/**
 * The runner starts as users start it: `bin/fieldsim.js` on the compiled CLI (dist-cli/),
 * which it uses only when newer than every source; build it so no run pays tsx's compile.
 */
function buildCompiledCli(): void {
  const r = spawnSync(
    process.execPath,
    [join(repo, 'node_modules/tsx/dist/cli.mjs'), join(repo, 'scripts/build-cli.ts')],
    {
      cwd: repo,
      stdio: 'inherit',
    },
  );
  if (r.status !== 0) throw new Error('npm run build:cli failed');
}

export async function compareWithLocust(
  small: number,
  large: number,
  /** More `fieldsim run` flags (e.g. `--tight-heap`), the same for both runner runs. */
  runnerArgs: string[] = [],
): Promise<LocustCompare> {
  buildCompiledCli();
  const dir = mkdtempSync(join(tmpdir(), 'fieldsim-bench-locust-'));
  try {
    const data = join(dir, 'hq');
    // Two sets of users, so each run restores the seeded 50 cases, not the previous run's forms.
    const emu = createEmulator({ dataDir: data });
    seedLoadUsers(emu.db, { prefix: 'load', count: large, password: 'fieldsim', casesPerUser: CASES });
    emu.close();
    const hasLocust = locustAvailable();
    const results: { locust: ToolRun[]; runner: ToolRun[] } = { locust: [], runner: [] };
    for (const n of [small, large]) {
      // A fresh server copy per run: every run starts from the same seeded database.
      for (const tool of hasLocust ? (['locust', 'runner'] as const) : (['runner'] as const)) {
        const copy = join(dir, `hq-${tool}-${n}`);
        spawnSync('cp', ['-r', data, copy]);
        const server = await spawnEmulatorProcess(copy);
        try {
          const r =
            tool === 'locust' ? runLocust(dir, server.url, n) : runRunner(dir, server.url, n, runnerArgs);
          results[tool].push(r);
          console.log(
            `  ${tool} ${n} workers: ${r.forms} forms, ${r.cpuSeconds.toFixed(2)} s CPU, peak RSS ${r.peakRssMb.toFixed(0)} MB, ${r.wallSeconds.toFixed(1)} s`,
          );
        } finally {
          await server.stop();
        }
      }
    }
    const [rs, rl] = results.runner as [ToolRun, ToolRun];
    const runner = marginal(rs, rl);
    const locust = hasLocust ? marginal(results.locust[0] as ToolRun, results.locust[1] as ToolRun) : null;
    return {
      small,
      large,
      locust,
      runner,
      cpuRatio: locust ? runner.cpuMsPerForm / locust.cpuMsPerForm : null,
      machine: machine(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatLocustCompare(c: LocustCompare): string {
  const line = (name: string, t: LocustCompare['runner'] | null) =>
    t
      ? `- ${name}: ${t.cpuMsPerForm.toFixed(2)} ms CPU per form, ${t.mbPerExtraWorker.toFixed(2)} MB per extra worker ` +
        `(${c.small} workers: ${t.small.cpuSeconds.toFixed(1)} s CPU, ${t.small.peakRssMb.toFixed(0)} MB; ` +
        `${c.large} workers: ${t.large.cpuSeconds.toFixed(1)} s CPU, ${t.large.peakRssMb.toFixed(0)} MB, ${t.large.wallSeconds.toFixed(1)} s)`
      : `- ${name}: not run (locust not on PATH; Debian: apt-get install python3-locust)`;
  return [
    `Workload: each worker SSO, full restore of ${CASES} cases, ${FORMS} case-creating forms; ${c.small} then ${c.large} workers; marginal figures (large run minus small run)`,
    line('Locust HttpUser', c.locust),
    line('fieldsim runner', c.runner),
    c.cpuRatio === null
      ? '- ratio: n/a'
      : `- runner CPU per form / Locust's: ${c.cpuRatio.toFixed(2)} (target <= 1); memory per extra worker target <= 0.5 MB`,
  ].join('\n');
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename);
if (isMain) {
  const { values } = parseArgs({
    options: {
      small: { type: 'string' },
      large: { type: 'string' },
      write: { type: 'boolean' },
      'runner-args': { type: 'string' },
    },
    strict: false,
  });
  const small = Number(typeof values.small === 'string' ? values.small : 20);
  const large = Number(typeof values.large === 'string' ? values.large : 100);
  const extra =
    typeof values['runner-args'] === 'string' ? values['runner-args'].split(/\s+/).filter(Boolean) : [];
  const c = await compareWithLocust(small, large, extra);
  if (extra.length > 0) console.log(`fieldsim run flags: ${extra.join(' ')}`);
  const text = formatLocustCompare(c);
  console.log(text);
  writeJsonIfAsked({
    locust: c.locust && { cpuMsPerForm: c.locust.cpuMsPerForm, mbPerExtraWorker: c.locust.mbPerExtraWorker },
    runner: { cpuMsPerForm: c.runner.cpuMsPerForm, mbPerExtraWorker: c.runner.mbPerExtraWorker },
    cpuRatio: c.cpuRatio,
    machine: c.machine,
  });
  if (values.write) appendToResults('Runner next to Locust', `${runHeading(c.machine)}\n\n${text}`);
}
