import type { FastifyInstance } from 'fastify';
import fastifyHelmet from '@fastify/helmet';

/**
 * The Content-Security-Policy of everything the server sends (app shell, workers, service worker,
 * API answers, tus answers). What the app needs and why each source is allowed:
 * - scripts only from our origin; 'wasm-unsafe-eval' lets the engine worker compile its SHA-256
 *   WebAssembly module (WebAssembly.instantiate) without allowing eval() of JavaScript;
 * - styles only from our origin (styles.css); Lit's component styles are constructed style sheets
 *   (adoptedStyleSheets), which CSP does not treat as inline, so no 'unsafe-inline' (one hash: the
 *   empty style sheet, see emptyStyleSheetHash);
 * - images from our origin and blob: (thumbnails and label/macro previews are object URLs of
 *   blobs the engine worker decoded on this PC);
 * - workers (engine, hash, service worker) from our origin only: none is built from a blob;
 * - connect-src 'self': API, tus uploads and the viewer's Range reads all go to this server;
 * - no plugins, no <base>, forms only to us, never framed (clickjacking on Start upload);
 * - violations are reported to the server, which logs them.
 * upgrade-insecure-requests is left out on purpose: a lab server reached over plain http on the
 * LAN would have every request upgraded to an https port that does not exist; over TLS, HSTS
 * (below) already keeps the browser on https.
 */
/**
 * The hash of the empty string: allows exactly an empty <style> element, which can hold no rule.
 * The scan viewer adds one as a marker so OpenSeadragon does not inject its own inline style sheet
 * (see claimOsdMobileCss in wsi-viewer.ts).
 */
export const emptyStyleSheetHash = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='";

export const cspDirectives: Readonly<Record<string, readonly string[]>> = {
  'default-src': ["'self'"],
  'script-src': ["'self'", "'wasm-unsafe-eval'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'", emptyStyleSheetHash],
  'style-src-attr': ["'none'"],
  'img-src': ["'self'", 'blob:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'worker-src': ["'self'"],
  'manifest-src': ["'self'"],
  'media-src': ["'none'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
  // Violations are logged by the server (routes/csp-report.ts): a strict policy that breaks part of
  // the app on some PC must not fail silently. report-uri (every browser sends each report at
  // once), not report-to alone (the Reporting API queues reports and sends them later, in batches).
  'report-uri': ['/api/csp-report'],
};

/** One year, the usual HSTS lifetime; no preload (that is a decision for whoever owns the domain). */
export const hstsHeader = 'max-age=31536000; includeSubDomains';

/**
 * Browser features the app never uses, switched off so injected or third-party code cannot ask
 * for them either (helmet has no Permissions-Policy).
 */
export const permissionsPolicy = 'camera=(), microphone=(), geolocation=(), payment=(), usb=()';

/**
 * Security headers on every response. They are set on the raw Node response in onRequest hooks
 * (helmet does that itself), not in onSend: the tus endpoint hijacks its replies and writes them
 * with Node's writeHead, which merges headers already set on the raw response, so uploads get the
 * same headers as pages and API answers.
 *
 * HSTS only when the request arrived over TLS as Fastify sees it: the socket is encrypted, or a
 * proxy the server trusts (see trustProxy) said X-Forwarded-Proto: https. Browsers ignore HSTS on
 * plain http, and sending it there would only mislead whoever reads the headers.
 */
export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(fastifyHelmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: cspDirectives as Record<string, string[]> },
    // Set below, only over TLS.
    strictTransportSecurity: false,
    // Our pages and files are for our own origin; nothing here is meant to be embedded elsewhere.
    crossOriginResourcePolicy: { policy: 'same-origin' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    // Not require-corp: it would buy cross-origin isolation the app does not use, at the cost of
    // breaking any future cross-origin image. Left off, as helmet does by default.
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
  });
  app.addHook('onRequest', async (req, reply) => {
    reply.raw.setHeader('permissions-policy', permissionsPolicy);
    if (req.protocol === 'https') reply.raw.setHeader('strict-transport-security', hstsHeader);
  });
}
