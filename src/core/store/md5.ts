/** Moved to `lib/md5.ts` (the HTTP layer's Digest auth needs it too); kept for existing imports. */
export * from '../lib/md5.ts';
