import { XFormError, type XFormErrorCode } from '../../errors/xform-error.ts';
import { HOST_FUNCTION_NAMES } from '../model/host-functions.ts';
import { compileXPath, unknownFunctions } from '../xpath/compile-xpath.ts';
import type { CompiledXPath } from '../xpath/xpath-types.ts';

/** Where an expression sits in the form, for error messages. */
export interface ExpressionSite {
  file: string | undefined;
  /** The bind nodeset or control ref the expression belongs to. */
  ref: string;
  /** The attribute it was read from (`calculate`, `relevant`...). */
  attribute: string;
}

/**
 * Compiles an expression of the form, re-raising the evaluator's syntax and unsupported-
 * function errors with the form file, the bind/control ref and the attribute named, so a
 * broken form points at its line of logic (JavaRosa's XFormParser does the same with
 * "Invalid XPath in bind").
 */
export function compileExpression(source: string, site: ExpressionSite): CompiledXPath {
  let compiled: CompiledXPath;
  try {
    compiled = compileXPath(source);
  } catch (e) {
    const where = `${site.file === undefined ? '' : `${site.file}: `}${site.attribute} of ${site.ref}`;
    if (e instanceof XFormError) {
      throw new XFormError(e.code as XFormErrorCode, `${where}: ${e.message}`, {
        ...(site.file === undefined ? {} : { file: site.file }),
        ref: site.ref,
        expression: source,
        cause: e,
      });
    }
    throw new XFormError('xpath-syntax', `${where}: cannot compile "${source}"`, {
      ...(site.file === undefined ? {} : { file: site.file }),
      ref: site.ref,
      expression: source,
      cause: e,
    });
  }
  // The phone fails a form calling a function it does not know when the form loads.
  const unknown = unknownFunctions(compiled, HOST_FUNCTION_NAMES);
  if (unknown.length > 0) {
    const where = `${site.file === undefined ? '' : `${site.file}: `}${site.attribute} of ${site.ref}`;
    throw new XFormError(
      'xpath-unsupported',
      `${where}: unsupported function ${unknown.map((n) => `${n}()`).join(', ')} in "${source}"`,
      {
        ...(site.file === undefined ? {} : { file: site.file }),
        ref: site.ref,
        expression: source,
      },
    );
  }
  return compiled;
}
