import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Real CommCare payloads live in ../shared/samples (read-only, copied byte for byte from
 * commcare-core, commcare-android and formplayer; see its README for provenance).
 * Tests read them in place; they are never copied into this repository.
 */
const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const SAMPLES_DIR = resolve(REPO_ROOT, '../shared/samples');

export function samplePath(rel: string): string {
  return resolve(SAMPLES_DIR, rel);
}

export function readSample(rel: string): string {
  return readFileSync(samplePath(rel), 'utf8');
}

export function readSampleBytes(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(samplePath(rel)));
}
