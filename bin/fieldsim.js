#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's loader, in this process, so exit codes and
// signals are the CLI's own. `npx fieldsim ...` resolves here through package.json "bin".
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
