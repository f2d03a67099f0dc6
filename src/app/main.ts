import { Workbox } from 'workbox-window';
import { startRouter } from './router.ts';
import { uploadsActive } from './state/activity.ts';
import './components/wsi-app/wsi-app.ts';

startRouter();
registerServiceWorker();

/**
 * The service worker precaches the shell so the installed app opens offline. A new version waits
 * until the user chooses to reload, and that choice is refused while uploads run, so an update never
 * reloads the page under an upload.
 */
function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator)) return;
  const wb = new Workbox('/sw.js');
  wb.addEventListener('waiting', () => dispatchEvent(new Event('wsi-update-ready')));
  addEventListener('wsi-apply-update', () => {
    if (uploadsActive()) {
      alert('Uploads are running. The update will be applied after they finish.');
      return;
    }
    wb.addEventListener('controlling', () => location.reload());
    wb.messageSkipWaiting();
  });
  void wb.register();
}
