import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * commcare-core's test resources (../shared/samples/commcare-core, Apache-2.0, read in
 * place). The shared folder sits next to the repository, or one level further up when the
 * tests run in a git worktree.
 */
const REPO_ROOT = resolve(import.meta.dirname, '../../..');
const CANDIDATES = [resolve(REPO_ROOT, '../shared/samples'), resolve(REPO_ROOT, '../../shared/samples')];
const SAMPLES = CANDIDATES.find((p) => existsSync(p)) ?? (CANDIDATES[0] as string);
export const CORE_SAMPLES = join(SAMPLES, 'commcare-core');

export function readSample(rel: string): string {
  return readFileSync(join(CORE_SAMPLES, rel), 'utf8');
}
