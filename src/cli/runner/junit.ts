import type { RunReport } from './report.ts';

/**
 * JUnit XML for CI dashboards: one `<testsuite>` for the scenario, one `<testcase>` per
 * simulated worker (named `worker <n> (<user>)`, class `fieldsim.<scenario>`), failing
 * with the worker's unexpected step failures and failed assertions. Built from the JSON
 * report, so `report merge` writes the same file a single run would.
 */

// XML 1.0 allows tab, LF, CR and U+0020 upwards except surrogates, U+FFFE and U+FFFF.
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/g;

export function escapeXml(s: string): string {
  return s
    .replace(INVALID_XML, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const secs = (ms: number) => (ms / 1000).toFixed(3);

export function toJunit(r: RunReport): string {
  const suite = r.scenario.name;
  const cases = r.workerResults.map((w) => {
    const name = `worker ${w.worker} (${w.user})`;
    const head = `    <testcase classname="${escapeXml(`fieldsim.${suite}`)}" name="${escapeXml(name)}" time="${secs(w.durationMs)}"`;
    if (w.ok && w.status !== 'not-started') return `${head}/>`;
    const lines = w.failures.map((f) => `${f.step} ${f.kind}: ${f.message}`);
    if (w.status === 'stopped')
      lines.push('The worker stopped after an unexpected failure (on_error: stop).');
    const first = w.failures[0];
    const message = first ? `${first.kind}: ${first.message}` : `worker ${w.status}`;
    const type = first?.kind.startsWith('assert_') ? 'assertion' : 'step';
    return `${head}>\n      <failure message="${escapeXml(message.split('\n')[0] ?? '')}" type="${type}">${escapeXml(lines.join('\n'))}</failure>\n    </testcase>`;
  });
  const failures = r.workerResults.filter((w) => !w.ok || w.status === 'not-started').length;
  const props = [
    ['seed', r.scenario.seed],
    ['domain', r.scenario.domain],
    ['server', r.server],
    ['shards', r.shards.map((s) => `${s.index}/${s.count}`).join(' ')],
  ]
    .map(([k, v]) => `      <property name="${escapeXml(k ?? '')}" value="${escapeXml(v ?? '')}"/>`)
    .join('\n');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="fieldsim" tests="${cases.length}" failures="${failures}" errors="0" time="${secs(r.durationMs)}">`,
    `  <testsuite name="${escapeXml(suite)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" time="${secs(r.durationMs)}" timestamp="${escapeXml(r.startedAt.replace(/\.\d+Z$/, ''))}">`,
    '    <properties>',
    props,
    '    </properties>',
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
