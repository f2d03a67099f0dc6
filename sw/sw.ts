/// <reference lib="webworker" />
// The service worker precaches the app shell only. /api and /files are never cached or routed:
// they must always reach the server (auth, uploads), so no route is registered for them.
import { precacheAndRoute, cleanupOutdatedCaches, createHandlerBoundToURL } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: { url: string; revision: string }[] };

cleanupOutdatedCaches();
precacheAndRoute(self.__WB_MANIFEST);

// Deep links (/scans/12, /import) load the cached shell offline; API and upload paths are excluded.
registerRoute(new NavigationRoute(createHandlerBoundToURL('/index.html'), { denylist: [/^\/api\//, /^\/files\//] }));

// The page asks us to activate; we never skipWaiting on our own, so an update cannot swap the app
// under a running upload (the page decides when it is safe).
self.addEventListener('message', (event) => {
  if (event.data?.type === 'SKIP_WAITING') void self.skipWaiting();
});
