import { FieldsimError } from '../../core/errors/fieldsim-error.ts';
import type { BackendFactory } from './app-backend.ts';

/** Placeholder until the core Session lands (src/core/sync/session.ts). */
export function createSessionBackendFactory(): BackendFactory {
  return {
    login: () =>
      Promise.reject(new FieldsimError('not-logged-in', 'The session layer is not available yet.')),
    resume: () => Promise.resolve(null),
  };
}
