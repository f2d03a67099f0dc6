/**
 * Whether long work (uploads, de-identification) is running. Used to refuse a service-worker
 * update reload and to warn before the tab is closed.
 */
let activeCount = 0;

export function uploadsActive(): boolean {
  return activeCount > 0;
}

export function setBusy(busy: boolean): void {
  activeCount = Math.max(0, activeCount + (busy ? 1 : -1));
}

addEventListener('beforeunload', (e) => {
  if (activeCount > 0) e.preventDefault();
});
