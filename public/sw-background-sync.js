// Background Sync for the outbox (issue 4), imported into the generated service worker.
// The page registers the tag `fieldsim-outbox` while forms wait; when the browser sees the
// network come back it fires `sync`, and the worker asks every open fieldsim window to run
// its outbox. The worker never sends forms itself: credentials live only in page memory,
// so with no window open the forms wait for the next start (nothing is lost or expired).
self.addEventListener('sync', (event) => {
  if (event.tag !== 'fieldsim-outbox') return;
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((clients) => {
      for (const client of clients) client.postMessage({ type: 'fieldsim-outbox-sync' });
    }),
  );
});
