import { options, type VNode } from 'preact';

/**
 * Keeps what a worker types out of Chromium's session-restore files (issue 16).
 *
 * Chromium saves the state of form controls into the tab's session history (the
 * profile's `Sessions/` files, plain UTF-16) so a restored tab can refill them: the
 * answers of a form still on screen when the browser closed ended up on disk in clear,
 * outside the encrypted database. Blink skips that save for a control whose autocomplete
 * is off (HTMLFormControlElementWithState::ShouldSaveAndRestoreFormControlState), so
 * every input, select and textarea the app renders gets `autocomplete="off"` unless its
 * component chose a token itself (the login's `username` and `current-password`, which
 * hold no case data: passwords are never saved and the user name is not case data).
 * One hook instead of an attribute on each control, so a new control cannot forget it;
 * test/e2e/open-form-session-files.test.ts scans the profile.
 */
const CONTROLS = new Set(['input', 'select', 'textarea']);

export function keepFormStateOffDisk(): void {
  const previous = options.vnode;
  options.vnode = (vnode: VNode) => {
    if (typeof vnode.type === 'string' && CONTROLS.has(vnode.type)) {
      const props = vnode.props as Record<string, unknown>;
      if (props.autocomplete === undefined && props.autoComplete === undefined) props.autocomplete = 'off';
    }
    previous?.(vnode);
  };
}
