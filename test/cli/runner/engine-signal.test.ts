import { afterEach, describe, expect, it } from 'vitest';
import { runScenario } from '../../../src/cli/runner/engine.ts';
import { parseScenario } from '../../../src/cli/runner/parse-scenario.ts';

describe('runScenario and the run signal', () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  afterEach(() => {
    process.off('warning', onWarning);
  });

  it('many workers waiting on the run signal raise no MaxListenersExceeded warning', async () => {
    process.on('warning', onWarning);
    const scenario = parseScenario(`
name: waits
domain: demo
workers: { count: 30, users: { prefix: w, password: p } }
steps:
  - wait: 30ms
`);
    const ac = new AbortController();
    const out = await runScenario(scenario, { serverUrl: 'http://127.0.0.1:9', signal: ac.signal });
    // Warnings are emitted on the next tick.
    await new Promise((r) => setImmediate(r));
    expect(out.metrics.workers.filter((w) => w.status === 'completed')).toHaveLength(30);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });
});
