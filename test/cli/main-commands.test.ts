import { describe, expect, it } from 'vitest';
import { buildProgram, commandOf } from '../../src/cli/main.ts';

const ALL = [
  'restore-file',
  'seed',
  'login',
  'restore',
  'sync',
  'cases',
  'submit',
  'register',
  'outbox',
  'run',
  'report',
  'app',
  'sink',
  'formlist',
  'form',
  'export',
];

describe('the CLI loads only the command it runs', () => {
  it('finds the command word after the script, skipping options', () => {
    expect(commandOf(['node', 'fieldsim', 'restore', '--json'])).toBe('restore');
    expect(commandOf(['node', 'fieldsim', '--help'])).toBeUndefined();
    expect(commandOf(['node', 'fieldsim', '-h', 'cases', 'show', 'x'])).toBe('cases');
  });

  it('registers just that command when it is known', async () => {
    const p = await buildProgram('restore');
    expect(p.commands.map((c) => c.name())).toEqual(['restore']);
    const form = await buildProgram('form');
    expect(form.commands.map((c) => c.name())).toEqual(['form']);
  });

  it('registers every command for help and for an unknown word, in the listed order', async () => {
    for (const word of [undefined, 'help', 'restor', 'constructor', '__proto__']) {
      const p = await buildProgram(word);
      expect(p.commands.map((c) => c.name())).toEqual(ALL);
    }
  });
});
