import type { ReactiveController, ReactiveControllerHost } from 'lit';

/**
 * The browser's word on the network, live for a component: the host re-renders when it changes.
 * navigator.onLine false is certain (no network at all); true only means "maybe", so pages that
 * need the server also try it (serverReachable).
 */
export class OnlineStatus implements ReactiveController {
  online = typeof navigator === 'undefined' ? true : navigator.onLine;
  private readonly update = (): void => {
    this.online = navigator.onLine;
    this.host.requestUpdate();
  };

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  hostConnected(): void {
    this.online = navigator.onLine;
    addEventListener('online', this.update);
    addEventListener('offline', this.update);
  }

  hostDisconnected(): void {
    removeEventListener('online', this.update);
    removeEventListener('offline', this.update);
  }
}

/**
 * Whether the server answers at all: any HTTP status counts (a 401 is an answer); a failed
 * request (no network, server down, the installed app started offline) does not.
 */
export async function serverReachable(signal?: AbortSignal): Promise<boolean> {
  try {
    await fetch('/api/me', { credentials: 'same-origin', cache: 'no-store', ...(signal ? { signal } : {}) });
    return true;
  } catch {
    return false;
  }
}
