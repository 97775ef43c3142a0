import type { Page } from 'playwright-core';
import { describeViolations, runAxe } from './axe.ts';

/** Cells scrolled sideways inside their own region cannot be measured (see accessibility.test.ts). */
function scrolledAway(n: { target: string[]; failureSummary?: string }): boolean {
  return n.target.some((t) => /\bt[dh]\b/.test(t)) && (n.failureSummary ?? '').includes('obscured');
}

/**
 * A table cell of one or two characters (a count such as "3") that axe leaves undecided as
 * "too short to determine if it is actual text": it has the colours of the cells beside
 * it, which axe does measure.
 */
function tooShortCell(n: { target: string[]; failureSummary?: string }): boolean {
  return n.target.some((t) => /\btd\b/.test(t)) && (n.failureSummary ?? '').includes('too short');
}

/**
 * axe-core's WCAG 2.0/2.1 A and AA rules on the current screen, in the light and dark
 * themes at 360 px and 1280 px, as the app-wide accessibility test runs them; contrast must
 * have been measured. Returns the failures (empty when the screen passes); leaves the
 * page at 1280x800 in the light theme.
 */
export async function axeScreen(page: Page, name: string): Promise<string[]> {
  const failures: string[] = [];
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    for (const width of [360, 1280]) {
      const base = width === 360 ? 740 : 800;
      await page.setViewportSize({ width, height: base });
      const height = await page.evaluate(() => document.documentElement.scrollHeight);
      await page.setViewportSize({ width, height: Math.max(height, base) });
      await page.waitForTimeout(150);
      const where = `${name} ${colorScheme} ${width}px`;
      const report = await runAxe(page);
      failures.push(...describeViolations(where, report.violations));
      if (!report.passed.includes('color-contrast')) failures.push(`${where}: color-contrast did not run`);
      failures.push(
        ...describeViolations(
          `${where} (undecided)`,
          report.incomplete
            .filter((v) => v.id === 'color-contrast')
            .map((v) => ({ ...v, nodes: v.nodes.filter((n) => !scrolledAway(n) && !tooShortCell(n)) }))
            .filter((v) => v.nodes.length > 0),
        ),
      );
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 800 });
  return failures;
}
