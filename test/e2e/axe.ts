import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const require = createRequire(import.meta.url);
/** The axe-core engine's browser bundle (the standard accessibility rules engine). */
export const AXE_PATH = require.resolve('axe-core');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/**
 * Runs axe on the page as it is now, with the WCAG 2.0/2.1 A and AA rules (colour contrast
 * among them). The page's CSP forbids inline scripts, so the context running this must be
 * opened with `bypassCSP: true`. Injected once per document.
 */
export interface AxeReport {
  violations: AxeViolation[];
  /** Rules that found something to check here and passed. */
  passed: string[];
  /** Rules axe could not decide (e.g. contrast over an image), with where. */
  incomplete: AxeViolation[];
}

export async function runAxe(page: Page): Promise<AxeReport> {
  const loaded = await page.evaluate(() => 'axe' in window);
  if (!loaded) await page.addScriptTag({ path: AXE_PATH });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<unknown> } })
      .axe;
    const result = (await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    })) as { violations: AxeViolation[]; passes: AxeViolation[]; incomplete: AxeViolation[] };
    const slim = (list: AxeViolation[]) =>
      list.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => ({
          target: n.target,
          ...(n.failureSummary ? { failureSummary: n.failureSummary } : {}),
        })),
      }));
    return {
      violations: slim(result.violations),
      passed: result.passes.map((p) => p.id),
      incomplete: slim(result.incomplete),
    };
  });
}

/** One line per failing element, readable in a test failure. */
export function describeViolations(where: string, violations: AxeViolation[]): string[] {
  return violations.flatMap((v) =>
    v.nodes.map((n) =>
      `${where}: ${v.id} (${v.help}) at ${n.target.join(' ')} ${n.failureSummary ?? ''}`.trim(),
    ),
  );
}
