import { signal } from '@preact/signals';

/**
 * Whether the PWA runs in its "Generic OpenRosa server" mode (ODK Central, Aggregate,
 * Kobo), chosen on the login screen. Its own module: the lazily loaded mode screens and
 * the entry that loads them both read it, without importing each other.
 */
export const openRosaMode = signal(false);
