import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliExit } from '../cli-exit.ts';
import { toJunit } from '../runner/junit.ts';
import {
  checkReport,
  formatSummary,
  mergeReports,
  ReportFormatError,
  type RunReport,
} from '../runner/report.ts';

/**
 * `fieldsim report merge <json...> [--report-json out] [--junit out]`: combines the JSON
 * reports of a sharded run (issue 7) into one summary, one JSON report and one JUnit file.
 * Exit status: the merged verdict (0 pass, 1 fail), 2 when a file is not a report.
 */
export function registerReport(program: Command): void {
  const report = program.command('report').description('work with run reports');
  report
    .command('merge')
    .description('merge the JSON reports of a sharded run into one summary and one JUnit file')
    .argument('<reports...>', 'JSON reports written by fieldsim run --report-json')
    .option('--report-json <file>', 'write the merged JSON report')
    .option('--junit <file>', 'write a JUnit XML report of the merged run')
    .action((files: string[], flags: { reportJson?: string; junit?: string }) => {
      const reports: RunReport[] = [];
      try {
        for (const f of files) {
          let raw: unknown;
          try {
            raw = JSON.parse(readFileSync(f, 'utf8'));
          } catch (e) {
            throw new ReportFormatError(`${f}: ${(e as Error).message}`);
          }
          reports.push(checkReport(raw, f));
        }
        const merged = mergeReports(reports);
        if (flags.reportJson) writeFileSync(flags.reportJson, `${JSON.stringify(merged)}\n`);
        if (flags.junit) writeFileSync(flags.junit, toJunit(merged));
        console.log(formatSummary(merged));
        throw new CliExit(merged.exitCode);
      } catch (e) {
        if (e instanceof ReportFormatError) {
          console.error(`fieldsim report merge: ${e.message}`);
          throw new CliExit(2);
        }
        throw e;
      }
    });
}
