import type { Hono } from 'hono';
import type { Env, Hq } from '../context.ts';

/** v0.5 JSON APIs (PROTOCOL.md 9). */
export function registerApi(_app: Hono<Env>, _hq: Hq): void {}
