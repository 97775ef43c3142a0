import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('HqClient.restore body and garbage collection (Node fetch)', () => {
  it('reads the whole restore body even when the Response is collected before reading starts', async () => {
    const child = resolve(import.meta.dirname, 'helpers/restore-body-gc-child.ts');
    const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', child], {
      timeout: 15_000,
    });
    const out = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
      expected: number;
      bare: number;
      client: number;
    };
    // The control: a bare fetch's body is cancelled when its Response is collected
    // (undici), so the collection in the child did happen. If a Node upgrade stops doing
    // that, this line fails and the wrapper in hq-client.ts (holdingResponse) can go.
    expect(out.bare).toBeLessThan(out.expected);
    expect(out.client).toBe(out.expected);
  });
});
