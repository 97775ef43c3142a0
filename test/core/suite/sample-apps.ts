import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { applyCaseBlock } from '../../../src/core/protocol/casexml/apply-case-block.ts';
import type { CaseRecord } from '../../../src/core/protocol/casexml/case-types.ts';
import { fromString, parseRestoreAll } from '../../../src/core/protocol/restore/restore-parser.ts';
import type { RegistrationRecord } from '../../../src/core/protocol/restore/restore-types.ts';
import { type AppFiles, appFilesFromMap } from '../../../src/core/suite/app-files.ts';
import type { SuiteContext } from '../../../src/core/suite/suite-context.ts';
import { buildCaseDbInstance } from '../../../src/core/xforms/instances/build-casedb-instance.ts';
import { buildFixtureInstance } from '../../../src/core/xforms/instances/build-fixture-instance.ts';
import { resolveInstanceSrc } from '../../../src/core/xforms/instances/resolve-instance-src.ts';
import type { InstanceNode } from '../../../src/core/xforms/tree/instance-node.ts';

/**
 * commcare-core's test apps (../shared/samples/commcare-core, read in place). The shared
 * folder sits beside the main checkout; a worktree one level deeper finds it one more
 * level up.
 */
const REPO_ROOT = resolve(import.meta.dirname, '../../..');
const CANDIDATES = [resolve(REPO_ROOT, '../shared/samples'), resolve(REPO_ROOT, '../../shared/samples')];
export const SAMPLES = CANDIDATES.find((p) => existsSync(p)) ?? (CANDIDATES[0] as string);
export const CORE_SAMPLES = join(SAMPLES, 'commcare-core');
export const FIXTURE_APPS = resolve(REPO_ROOT, 'test/fixtures/apps');

/** Every file under a folder, as an app source (what the CLI does with a folder). */
export function appFilesFromFolder(dir: string): AppFiles {
  const files: Record<string, Uint8Array> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else files[relative(dir, p)] = new Uint8Array(readFileSync(p));
    }
  };
  walk(dir);
  return appFilesFromMap(files);
}

export function sampleApp(name: string): AppFiles {
  return appFilesFromFolder(join(CORE_SAMPLES, name));
}

export interface RestoreData {
  cases: CaseRecord[];
  casedb: InstanceNode;
  fixtures: Map<string, InstanceNode>;
  registration: RegistrationRecord | undefined;
}

/** Reads a restore file the way the phone would store it: cases applied, fixtures kept. */
export async function readRestore(path: string): Promise<RestoreData> {
  const events = await parseRestoreAll(fromString(readFileSync(path, 'utf8')));
  const cases = new Map<string, CaseRecord>();
  const fixtures = new Map<string, InstanceNode>();
  let registration: RegistrationRecord | undefined;
  for (const e of events) {
    if (e.kind === 'case') {
      const next = applyCaseBlock(cases.get(e.block.caseId), e.block);
      if (next) cases.set(next.caseId, next);
    } else if (e.kind === 'fixture') fixtures.set(e.fixture.id, buildFixtureInstance(e.fixture.root));
    else if (e.kind === 'registration') registration = e.registration;
  }
  const list = [...cases.values()];
  return { cases: list, casedb: buildCaseDbInstance(list), fixtures, registration };
}

/** A suite context over a restore: casedb, fixtures, and the session built from the user. */
export function contextFor(data: RestoreData, extra: Partial<SuiteContext> = {}): SuiteContext {
  const reg = data.registration;
  return {
    instance(src) {
      const s = resolveInstanceSrc(src);
      if (s.kind === 'casedb') return data.casedb;
      if (s.kind === 'fixture') return data.fixtures.get(s.id);
      return undefined;
    },
    user: {
      deviceid: 'test-device',
      appversion: 'fieldsim-test',
      username: reg?.username ?? 'test',
      userid: reg?.uuid ?? 'test_uuid',
      userData: reg?.userData ?? {},
    },
    now: () => new Date('2026-12-02T10:00:00Z'),
    ...extra,
  };
}
