import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';

/**
 * The Hono environment of every route (Node's request bindings), in its own module so that
 * modules below context.ts (auth) can name a request context without importing it.
 */
export type Env = { Bindings: HttpBindings };
export type Ctx = Context<Env>;

/** The Basic challenge of the phone endpoints and APIs (`basicauth`, hq:corehq/apps/domain/auth.py). */
export const BASIC_CHALLENGE = 'Basic realm="fieldsim"';
