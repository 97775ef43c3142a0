import { XFormError } from '../errors/xform-error.ts';
import type { CommCareApp } from './commcare-app.ts';
import { evaluateString, inSuite, makeScope, type SuiteContext } from './suite-context.ts';
import type { ComputedDatum, EntityDatum, SuiteEntry } from './suite-model.ts';

/**
 * The value of a computed datum (`<datum id function>`), evaluated with the entry's
 * instances and the session data chosen so far (commcare-core `CommCareSession.setComputedDatum`:
 * the function is evaluated once and stored as the datum's value). `uuid()` gives a new
 * case id this way.
 */
export function computeDatum(
  app: CommCareApp,
  entry: SuiteEntry,
  datumId: string,
  ctx: SuiteContext,
): string {
  const datum = entry.datums.find((d) => d.id === datumId);
  if (datum?.kind !== 'computed')
    throw new XFormError('form-not-found', `Entry ${entry.commandId} has no computed datum ${datumId}`, {
      file: entry.file,
      ref: datumId,
    });
  const scope = makeScope(app, ctx, entry.instances);
  return inSuite(`datum ${datumId} of ${entry.commandId}`, entry.file, () =>
    evaluateString(scope, (datum as ComputedDatum).expression),
  );
}

/** The entity (case selection) datum with this id, or `form-not-found`. */
export function entityDatum(entry: SuiteEntry, datumId: string): EntityDatum {
  const datum = entry.datums.find((d) => d.id === datumId);
  if (datum?.kind !== 'entity')
    throw new XFormError(
      'form-not-found',
      `Entry ${entry.commandId} has no case-selection datum ${datumId}`,
      {
        file: entry.file,
        ref: datumId,
      },
    );
  return datum;
}
