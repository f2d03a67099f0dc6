import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hashPassword } from '../../src/server/auth/password.ts';
import { sessionCookie } from '../../src/server/auth/session.ts';
import type { Role } from '../../src/server/db/repos/labs.ts';
import { encodeMetadata, partMeta, removeDir, sha256, startServer, type TestServer } from './support.ts';
import { tmpdir } from 'node:os';

/**
 * The access-control matrix (issue 11): every route the server registers × every identity × a
 * resource of the identity's own lab and of another lab, each cell with its expected status.
 *
 * The route list is read from Fastify itself (printRoutes, checked entry by entry with hasRoute),
 * so a route added without a row in `expectations` fails the test, and so does a row left behind
 * by a removed route. HEAD rows of GET routes (Fastify adds them) expect what the GET row says.
 *
 * Identities (columns, in this order): anonymous, viewer / lab-user / lab-admin of lab A,
 * lab-admin of lab B (another lab), lab-user of lab C (bulk-import off), the platform admin (the
 * first admin: lab-admin of Demo Lab, a role above labs). "own" is a resource of the identity's
 * own lab (anonymous: lab A), "other" one of a lab it does not belong to. Every cell runs in a
 * fresh session; resources a cell changes are made for that cell. Besides statuses, no 2xx body may
 * carry data (scan names, case numbers) of a lab the identity is not a member of.
 */
const identities = ['anonymous', 'viewer', 'labUser', 'labAdmin', 'otherAdmin', 'flagOff', 'platform'] as const;
type Identity = (typeof identities)[number];
type Side = 'own' | 'other';

interface Cell {
  identity: Identity;
  side: Side;
  /** Lab of the resource (A, B, C or D = Demo Lab). */
  lab: LabKey;
}
type LabKey = 'A' | 'B' | 'C' | 'D';

interface Req {
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  raw?: Buffer;
  after?: () => Promise<void> | void;
}

interface Row {
  /** Expected statuses, one per identity in the order above: "own" resources, then "other". */
  own: string;
  other: string;
  /** The request for one cell (fresh resources when the route changes them). */
  req: (c: Cell) => Promise<Req> | Req;
}

let s: TestServer;
let fx: Fixture;

interface LabFx {
  id: number;
  marker: string;
  scanId: number;
  caseId: number;
  slideId: string;
  /** A user of the lab who may upload (for uploads an identity cannot create itself). */
  uploader: number;
  /** A batch record of the lab (its id is unique to the lab). */
  batchId: string;
}
interface Fixture {
  labs: Record<LabKey, LabFx>;
  users: Record<Exclude<Identity, 'anonymous'>, { id: number; username: string; password: string }>;
  memberHash: string;
  seq: number;
}

const ownLab: Record<Identity, LabKey> = { anonymous: 'A', viewer: 'A', labUser: 'A', labAdmin: 'A', otherAdmin: 'B', flagOff: 'C', platform: 'D' };
const otherLab: Record<Identity, LabKey> = { anonymous: 'B', viewer: 'B', labUser: 'B', labAdmin: 'B', otherAdmin: 'A', flagOff: 'A', platform: 'A' };
/** Who may create uploads in their own lab (editor role, flag on). */
const canUpload: Identity[] = ['labUser', 'labAdmin', 'otherAdmin', 'platform'];

const next = (): number => ++fx.seq;
const lab = (c: Cell): LabFx => fx.labs[c.lab];

/** A session for the identity, made directly (every cell gets its own; sign-in is a row of its own). */
async function session(identity: Identity): Promise<string | undefined> {
  if (identity === 'anonymous') return undefined;
  const u = fx.users[identity];
  const token = randomBytes(24).toString('base64url');
  const now = Date.now();
  await s.built.repos.sessions.create(createHash('sha256').update(token).digest('hex'), u.id, fx.labs[ownLab[identity]].id, now, now + 3600_000);
  return `${sessionCookie}=${token}`;
}

async function sessionFor(userId: number, labId: number): Promise<string> {
  const token = randomBytes(24).toString('base64url');
  const now = Date.now();
  await s.built.repos.sessions.create(createHash('sha256').update(token).digest('hex'), userId, labId, now, now + 3600_000);
  return `${sessionCookie}=${token}`;
}

function send(method: string, path: string, opts: { cookie?: string; headers?: Record<string, string>; body?: Buffer } = {}): Promise<{ status: number; text: string; location?: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(opts.cookie ? { cookie: opts.cookie } : {}), ...opts.headers };
    if (opts.body) headers['content-length'] = String(opts.body.length);
    const r = httpRequest({ host: '127.0.0.1', port: s.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), ...(res.headers.location ? { location: res.headers.location } : {}) }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(opts.body);
  });
}

const tus = { 'tus-resumable': '1.0.0' };
const uploadBytes = new Uint8Array(16).fill(7);

/** A tus upload of 16 bytes created over HTTP by `userId` in `labId` (bulk import switched on for the moment if needed). */
async function makeUpload(userId: number, labKey: LabKey): Promise<string> {
  const l = fx.labs[labKey];
  const { repos } = s.built;
  const flags = await repos.labs.features(l.id);
  if (!flags.includes('bulk-import')) await repos.labs.setFeatures(l.id, ['bulk-import']);
  try {
    const r = await send('POST', '/files/', {
      cookie: await sessionFor(userId, l.id),
      headers: { ...tus, 'upload-length': String(uploadBytes.length), 'upload-metadata': encodeMetadata({ ...partMeta(uploadBytes, { filename: `${l.marker}.svs` }) }) },
    });
    assert.equal(r.status, 201, `fixture upload: ${r.text}`);
    return new URL(r.location!, s.url).pathname;
  } finally {
    if (!flags.includes('bulk-import')) await repos.labs.setFeatures(l.id, flags as 'bulk-import'[]);
  }
}

/** An upload for this cell: the identity's own when it may create one in its own lab, else the lab uploader's. */
async function uploadFor(c: Cell): Promise<string> {
  const creator = c.side === 'own' && canUpload.includes(c.identity) ? fx.users[c.identity as Exclude<Identity, 'anonymous'>].id : lab(c).uploader;
  return makeUpload(creator, c.lab);
}

async function scan(labKey: LabKey, status: 'ready' | 'failed' | 'quarantined'): Promise<number> {
  const l = fx.labs[labKey];
  const { scan: row } = await s.built.repos.scans.getOrCreate({
    labId: l.id, slideId: randomUUID(), batchId: 'matrix', status, mode: 'direct', parts: 1, claimedFormat: 'aperio-svs', originalFilename: `${l.marker}-scan-${next()}.svs`, uploadedBy: l.uploader,
  });
  return row.id;
}

/** A ready scan with a thumbnail file (what ingest leaves), for the thumbnail route. */
async function scanWithThumbnail(labKey: LabKey): Promise<number> {
  const id = await scan(labKey, 'ready');
  const rel = join(s.built.storage.scanDir(fx.labs[labKey].id, id), 'thumbnail.jpg');
  // Through the storage facade: a file on local storage, an object in the bucket on S3.
  await s.built.storage.put(rel, Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
  await s.built.repos.scans.setThumbnail(fx.labs[labKey].id, id, rel);
  return id;
}

/** A member made for one cell (to change, remove or reset). */
async function freshMember(labKey: LabKey): Promise<number> {
  const { repos } = s.built;
  const u = await repos.users.create(`member-${next()}`, 'Member', fx.memberHash);
  await repos.labs.setRole(fx.labs[labKey].id, u.id, 'lab-user');
  return u.id;
}

const bodyReq = (path: string, body: unknown): Req => ({ path, body });

// Rows: statuses for anonymous, viewer, labUser, labAdmin, otherAdmin, flagOff, platform.
const all = (st: number) => Array(7).fill(st).join(' ');
const signedIn = (st: number) => `401 ${Array(6).fill(st).join(' ')}`;

const expectations: Record<string, Row> = {
  'GET /api/health': { own: all(200), other: all(200), req: async () => ({ path: '/api/health' }) },
  // Operations (ops/routes.ts): no session involved; /metrics answers loopback peers (the tests) without a token.
  'GET /api/ready': { own: all(200), other: all(200), req: async () => ({ path: '/api/ready' }) },
  'GET /metrics': { own: all(200), other: all(200), req: async () => ({ path: '/metrics' }) },
  // Browsers post CSP violation reports without regard to who is signed in; it only logs.
  'POST /api/csp-report': { own: all(204), other: all(204), req: async () => bodyReq('/api/csp-report', { 'csp-report': { 'effective-directive': 'img-src', 'blocked-uri': 'https://elsewhere.example/x.png' } }) },
  'POST /api/login': {
    // own: the identity's own credentials (anonymous: lab A's user signs in); other: a wrong password.
    own: all(200),
    other: all(401),
    req: async (c) => {
      const u = fx.users[c.identity === 'anonymous' ? 'labUser' : c.identity];
      return bodyReq('/api/login', { username: u.username, password: c.side === 'own' ? u.password : `${u.password}-wrong` });
    },
  },
  'POST /api/logout': { own: all(204), other: all(204), req: async () => bodyReq('/api/logout', {}) },
  'GET /api/me': { own: signedIn(200), other: signedIn(200), req: async () => ({ path: '/api/me' }) },
  'POST /api/me/lab': { own: signedIn(200), other: signedIn(404), req: async (c) => bodyReq('/api/me/lab', { labId: lab(c).id }) },
  'POST /api/me/password': {
    // own: the right current password; other: a wrong one. The password is put back afterwards.
    own: signedIn(200),
    other: signedIn(403),
    req: async (c) => {
      if (c.identity === 'anonymous') return bodyReq('/api/me/password', { currentPassword: 'x', newPassword: 'some new passphrase' });
      const u = fx.users[c.identity];
      return {
        ...bodyReq('/api/me/password', { currentPassword: c.side === 'own' ? u.password : 'not the password', newPassword: 'a brand new passphrase' }),
        after: async () => await s.built.repos.users.setPassword(u.id, fx.memberHash),
      };
    },
  },
  'GET /api/me/invitations': { own: signedIn(200), other: signedIn(200), req: async () => ({ path: '/api/me/invitations' }) },
  'POST /api/me/invitations/:id/accept': { own: signedIn(200), other: signedIn(404), req: async (c) => await invitationReq(c, 'accept') },
  'POST /api/me/invitations/:id/decline': { own: signedIn(204), other: signedIn(404), req: async (c) => await invitationReq(c, 'decline') },

  'GET /api/scans': { own: signedIn(200), other: signedIn(200), req: async () => ({ path: '/api/scans' }) },
  'GET /api/scans/filters': { own: signedIn(200), other: signedIn(200), req: async () => ({ path: '/api/scans/filters' }) },
  'GET /api/scans/:id/thumbnail': { own: signedIn(200), other: signedIn(404), req: async (c) => ({ path: `/api/scans/${await scanWithThumbnail(c.lab)}/thumbnail` }) },
  'GET /api/scans/:id': { own: signedIn(200), other: signedIn(404), req: async (c) => ({ path: `/api/scans/${lab(c).scanId}` }) },
  'PATCH /api/scans/:id': {
    own: '401 403 200 200 200 200 200',
    other: '401 403 404 404 404 404 404',
    req: async (c) => bodyReq(`/api/scans/${lab(c).scanId}`, { mpp: { x: 0.25, y: 0.25 } }),
  },
  'POST /api/scans/:id/reprocess': {
    own: '401 403 202 202 202 202 202',
    other: '401 403 404 404 404 404 404',
    req: async (c) => bodyReq(`/api/scans/${await scan(c.lab, 'failed')}/reprocess`, {}),
  },
  'GET /api/scans/:id/file': { own: signedIn(200), other: signedIn(404), req: async (c) => ({ path: `/api/scans/${lab(c).scanId}/file?part=0` }) },
  'GET /api/scans/:id/original': { own: signedIn(200), other: signedIn(404), req: async (c) => ({ path: `/api/scans/${lab(c).scanId}/original` }) },
  'DELETE /api/scans/:id/files': {
    own: '401 403 403 200 200 403 200',
    other: signedIn(404),
    req: async (c) => ({ path: `/api/scans/${await scan(c.lab, 'quarantined')}/files` }),
  },

  'GET /api/cases': { own: signedIn(200), other: signedIn(200), req: async () => ({ path: '/api/cases' }) },
  'POST /api/cases': {
    own: '401 403 201 201 201 201 201',
    other: '401 403 201 201 201 201 201',
    req: async () => bodyReq('/api/cases', { caseNumber: `NEW-${next()}` }),
  },
  'GET /api/cases/:id': { own: signedIn(200), other: signedIn(404), req: async (c) => ({ path: `/api/cases/${lab(c).caseId}` }) },
  'PATCH /api/cases/:id': {
    own: '401 403 200 200 200 200 200',
    other: '401 403 404 404 404 404 404',
    req: async (c) => {
      const l = lab(c);
      const cs = await s.built.repos.cases.create(l.id, `RENAME-${next()}`, '', l.uploader);
      return { ...bodyReq(`/api/cases/${cs.id}`, { description: 'changed' }) };
    },
  },
  'POST /api/cases/:id/scans': {
    own: '401 403 200 200 200 200 200',
    other: '401 403 404 404 404 404 404',
    req: async (c) => bodyReq(`/api/cases/${lab(c).caseId}/scans`, { scanIds: [lab(c).scanId] }),
  },
  'DELETE /api/cases/:id/scans/:scanId': {
    own: '401 403 204 204 204 204 204',
    other: '401 403 404 404 404 404 404',
    req: async (c) => {
      const l = lab(c);
      const cs = await s.built.repos.cases.create(l.id, `LINK-${next()}`, '', l.uploader);
      await s.built.repos.cases.link(l.id, cs.id, [l.scanId]);
      return { path: `/api/cases/${cs.id}/scans/${l.scanId}` };
    },
  },

  // API tokens (issue 14): a person's own, made where they may import; another's does not exist.
  'GET /api/me/tokens': { own: signedIn(200), other: signedIn(200), req: async () => ({ path: '/api/me/tokens' }) },
  'POST /api/me/tokens': { own: '401 403 201 201 201 403 201', other: '401 403 201 201 201 403 201', req: async () => bodyReq('/api/me/tokens', { name: `PC ${next()}` }) },
  'DELETE /api/me/tokens/:id': {
    own: signedIn(204),
    other: signedIn(404),
    req: async (c) => {
      const mine = c.side === 'own' && c.identity !== 'anonymous';
      const owner = mine ? fx.users[c.identity as Exclude<Identity, 'anonymous'>].id : await freshMember(c.lab);
      const ownerLab = fx.labs[c.lab].id;
      const t = await s.built.repos.apiTokens.create(owner, ownerLab, `token ${next()}`, createHash('sha256').update(`t${fx.seq}`).digest('hex'));
      return { path: `/api/me/tokens/${t.id}` };
    },
  },

  // Batch records (issue 14): a batch id is unique per lab; another lab's is not found.
  'GET /api/batches': { own: signedIn(200), other: signedIn(200), req: async () => ({ path: '/api/batches' }) },
  'GET /api/batches/:id': { own: signedIn(200), other: signedIn(404), req: async (c) => ({ path: `/api/batches/${lab(c).batchId}` }) },
  'PUT /api/batches/:id': {
    // Written in the caller's own lab (a fresh id each cell), by those who may import there.
    own: '401 403 200 200 200 403 200',
    other: '401 403 200 200 200 403 200',
    req: async () => bodyReq(`/api/batches/put-${next()}`, { client: 'web', slides: 1 }),
  },

  'GET /api/uploads/slide/:slideId': {
    // Another lab's slide id answers like an unknown one: 200 with nothing (the leak check looks at the body).
    own: signedIn(200),
    other: signedIn(200),
    req: async (c) => ({ path: `/api/uploads/slide/${lab(c).slideId}` }),
  },

  // Labs: platform admins only.
  'GET /api/labs': { own: '401 403 403 403 403 403 200', other: '401 403 403 403 403 403 200', req: async () => ({ path: '/api/labs' }) },
  'POST /api/labs': { own: '401 403 403 403 403 403 201', other: '401 403 403 403 403 403 201', req: async () => bodyReq('/api/labs', { name: `New Lab ${next()}` }) },

  // Lab administration: that lab's admins, and platform admins for every lab.
  'GET /api/labs/:id/users': { own: '401 403 403 200 200 403 200', other: '401 404 404 404 404 404 200', req: async (c) => ({ path: `/api/labs/${lab(c).id}/users` }) },
  'POST /api/labs/:id/users': {
    own: '401 403 403 201 201 403 201',
    other: '401 404 404 404 404 404 201',
    req: async (c) => bodyReq(`/api/labs/${lab(c).id}/users`, { username: `created-${next()}`, role: 'viewer', password: 'a fine long passphrase' }),
  },
  'PUT /api/labs/:id/users/:userId': {
    own: '401 403 403 200 200 403 200',
    other: '401 404 404 404 404 404 200',
    req: async (c) => bodyReq(`/api/labs/${lab(c).id}/users/${await freshMember(c.lab)}`, { role: 'viewer' }),
  },
  'DELETE /api/labs/:id/users/:userId': {
    own: '401 403 403 204 204 403 204',
    other: '401 404 404 404 404 404 204',
    req: async (c) => ({ path: `/api/labs/${lab(c).id}/users/${await freshMember(c.lab)}` }),
  },
  'POST /api/labs/:id/users/:userId/password-reset': {
    own: '401 403 403 200 200 403 200',
    other: '401 404 404 404 404 404 200',
    req: async (c) => bodyReq(`/api/labs/${lab(c).id}/users/${await freshMember(c.lab)}/password-reset`, {}),
  },
  'PUT /api/labs/:id/users/:userId/status': {
    own: '401 403 403 200 200 403 200',
    other: '401 404 404 404 404 404 200',
    req: async (c) => bodyReq(`/api/labs/${lab(c).id}/users/${await freshMember(c.lab)}/status`, { active: false }),
  },
  'GET /api/labs/:id/invitations': { own: '401 403 403 200 200 403 200', other: '401 404 404 404 404 404 200', req: async (c) => ({ path: `/api/labs/${lab(c).id}/invitations` }) },
  'POST /api/labs/:id/invitations': {
    own: '401 403 403 202 202 403 202',
    other: '401 404 404 404 404 404 202',
    req: async (c) => bodyReq(`/api/labs/${lab(c).id}/invitations`, { username: `invitee-${next()}`, role: 'viewer' }),
  },
  'DELETE /api/labs/:id/invitations/:invitationId': {
    own: '401 403 403 204 204 403 204',
    other: '401 404 404 404 404 404 204',
    req: async (c) => {
      const inv = await s.built.repos.invitations.upsert(lab(c).id, `withdrawn-${next()}`, 'viewer', lab(c).uploader, Date.now());
      return { path: `/api/labs/${lab(c).id}/invitations/${inv.id}` };
    },
  },
  'PUT /api/labs/:id/features': {
    // The lab's flags as they are (the other cells depend on them).
    own: '401 403 403 200 200 403 200',
    other: '401 404 404 404 404 404 200',
    req: async (c) => bodyReq(`/api/labs/${lab(c).id}/features`, { features: await s.built.repos.labs.features(lab(c).id) }),
  },
  'GET /api/labs/:id/storage': { own: '401 403 403 200 200 403 200', other: '401 404 404 404 404 404 200', req: async (c) => ({ path: `/api/labs/${lab(c).id}/storage` }) },
  'PUT /api/labs/:id/storage': {
    own: '401 403 403 200 200 403 200',
    other: '401 404 404 404 404 404 200',
    req: async (c) => bodyReq(`/api/labs/${lab(c).id}/storage`, { quotaBytes: null }),
  },

  // tus. Creation goes to the caller's current lab; an upload is its creator's alone (404 for anyone
  // else, also in the same lab); methods tus does not define are 405 before anything else.
  'POST /files': { own: '401 403 201 201 201 403 201', other: '401 403 201 201 201 403 201', req: async () => await tusCreateReq() },
  'OPTIONS /files': { own: all(204), other: all(204), req: async () => ({ path: '/files', headers: tus }) },
  'GET /files': { own: signedIn(404), other: signedIn(404), req: async () => ({ path: '/files', headers: tus }) },
  'PATCH /files': { own: signedIn(404), other: signedIn(404), req: async () => ({ path: '/files', headers: tus }) },
  'DELETE /files': { own: signedIn(404), other: signedIn(404), req: async () => ({ path: '/files', headers: tus }) },
  'PUT /files': { own: all(405), other: all(405), req: async () => ({ path: '/files', headers: tus }) },
  'TRACE /files': { own: all(405), other: all(405), req: async () => ({ path: '/files', headers: tus }) },
  // QUERY carries a body: without a Content-Type Fastify itself refuses it (400) before our handler.
  'QUERY /files': { own: all(405), other: all(405), req: async () => ({ path: '/files', headers: { ...tus, 'content-type': 'application/offset+octet-stream' } }) },
  'HEAD /files/*': { own: '401 404 200 200 200 200 200', other: signedIn(404), req: async (c) => ({ path: await uploadFor(c), headers: tus }) },
  'GET /files/*': { own: '401 404 404 404 404 404 404', other: signedIn(404), req: async (c) => ({ path: await uploadFor(c), headers: tus }) },
  'PATCH /files/*': {
    own: '401 404 204 204 204 403 204',
    other: signedIn(404),
    req: async (c) => ({
      path: await uploadFor(c),
      headers: { ...tus, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
      raw: Buffer.from(uploadBytes.subarray(0, 8)),
    }),
  },
  'DELETE /files/*': { own: '401 404 204 204 204 204 204', other: signedIn(404), req: async (c) => ({ path: await uploadFor(c), headers: tus }) },
  'POST /files/*': { own: signedIn(404), other: signedIn(404), req: async (c) => ({ path: await uploadFor(c), headers: tus }) },
  'OPTIONS /files/*': { own: all(204), other: all(204), req: async () => ({ path: '/files/anything', headers: tus }) },
  'PUT /files/*': { own: all(405), other: all(405), req: async () => ({ path: '/files/anything', headers: tus }) },
  'TRACE /files/*': { own: all(405), other: all(405), req: async () => ({ path: '/files/anything', headers: tus }) },
  'QUERY /files/*': { own: all(405), other: all(405), req: async () => ({ path: '/files/anything', headers: { ...tus, 'content-type': 'application/offset+octet-stream' } }) },

  // The app shell (served to anyone; it holds no lab data).
  'GET /*': { own: all(200), other: all(200), req: async () => ({ path: '/app.js' }) },
};

async function tusCreateReq(): Promise<Req> {
  return { path: '/files/', headers: { ...tus, 'upload-length': String(uploadBytes.length), 'upload-metadata': encodeMetadata({ ...partMeta(uploadBytes) }) } };
}

/** own: an invitation to the identity (from a lab made for the cell, so accepting changes nothing else); other: one to someone else. */
async function invitationReq(c: Cell, action: 'accept' | 'decline'): Promise<Req> {
  const { repos } = s.built;
  const l = await repos.labs.create(`Invitation Lab ${next()}`);
  const to = c.side === 'own' && c.identity !== 'anonymous' ? fx.users[c.identity].username : `someone-else-${next()}`;
  const inv = await repos.invitations.upsert(l.id, to, 'viewer', fx.labs.A.uploader, Date.now());
  return bodyReq(`/api/me/invitations/${inv.id}/${action}`, {});
}

/** Every (method, path) Fastify serves, read from its route tree and confirmed with hasRoute. */
function registeredRoutes(): string[] {
  const app = s.built.app;
  const tree = app.printRoutes({ commonPrefix: false });
  const stack: string[] = [];
  const out: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1].length / 4;
    const parent = depth > 0 ? stack[depth - 1] : '';
    const methods = m[3] ? m[3].split(', ') : [];
    // The tree prints a wildcard child without the slash before it ("/files" → "*" is /files/*).
    const candidates = [parent + m[2], `${parent}/${m[2]}`];
    const path = candidates.find((p) => methods.length > 0 && app.hasRoute({ method: methods[0] as 'GET', url: p })) ?? candidates[0];
    stack[depth] = path;
    stack.length = depth + 1;
    for (const method of methods) {
      assert.ok(app.hasRoute({ method: method as 'GET', url: path }), `parsed route ${method} ${path} is not registered: the route tree format changed`);
      out.push(`${method} ${path}`);
    }
  }
  return out.sort();
}

before(async () => {
  // A public dir, so the app shell's routes are registered as in production.
  const publicDir = await mkdtemp(join(tmpdir(), 'wsi-matrix-public-'));
  await writeFile(join(publicDir, 'index.html'), '<!doctype html><title>t</title>');
  await writeFile(join(publicDir, 'app.js'), 'export {};');
  s = await startServer({ publicDir });
  const { repos } = s.built;
  const memberHash = await hashPassword('member-password-long');
  fx = { labs: {} as Fixture['labs'], users: {} as Fixture['users'], memberHash, seq: 0 };
  const mkLab = async (name: string, on: boolean) => {
    const l = await repos.labs.byName(name) ?? await repos.labs.create(name);
    await repos.labs.setFeatures(l.id, on ? ['bulk-import'] : []);
    return l.id;
  };
  const labIds: Record<LabKey, number> = { A: await mkLab('Matrix A', true), B: await mkLab('Matrix B', true), C: await mkLab('Matrix C', false), D: (await repos.labs.byName('Demo Lab'))!.id };
  const mkUser = async (username: string, memberships: [LabKey, Role][]) => {
    const u = await repos.users.create(username, username, memberHash);
    for (const [k, role] of memberships) await repos.labs.setRole(labIds[k], u.id, role);
    return { id: u.id, username, password: 'member-password-long' };
  };
  const admin = (await repos.users.credentialsByUsername('admin'))!;
  await repos.users.setPassword(admin.id, memberHash);
  fx.users = {
    viewer: await mkUser('m-viewer-a', [['A', 'viewer']]),
    labUser: await mkUser('m-user-a', [['A', 'lab-user']]),
    labAdmin: await mkUser('m-admin-a', [['A', 'lab-admin']]),
    otherAdmin: await mkUser('m-admin-b', [['B', 'lab-admin']]),
    flagOff: await mkUser('m-user-c', [['C', 'lab-user']]),
    platform: { id: admin.id, username: 'admin', password: 'member-password-long' },
  };
  const uploaders: Record<LabKey, number> = { A: fx.users.labUser.id, B: (await mkUser('m-user-b', [['B', 'lab-user']])).id, C: fx.users.flagOff.id, D: admin.id };
  for (const k of ['A', 'B', 'C', 'D'] as LabKey[]) {
    const id = labIds[k];
    const marker = `zz-lab-${k.toLowerCase()}-secret`;
    fx.labs[k] = { id, marker, scanId: 0, caseId: 0, slideId: '', uploader: uploaders[k], batchId: `mx-batch-${k.toLowerCase()}` };
    await repos.batches.ensure(id, fx.labs[k].batchId, 'web', uploaders[k]);
    const scanId = await scan(k, 'ready');
    const rel = join('scans', String(id), String(scanId), 'part-0.bin');
    const bytes = Buffer.from(`bytes of ${marker}`);
    await s.built.storage.put(rel, bytes);
    await repos.scans.putFile(id, scanId, { part: 0, path: rel, size: bytes.length, sha256: sha256(bytes), uploadId: 'matrix' });
    const c = await repos.cases.create(id, `${marker}-case`, marker, uploaders[k]);
    fx.labs[k] = { ...fx.labs[k], scanId, caseId: c.id, slideId: (await repos.scans.byId(id, scanId))!.slideId };
  }
});

after(async () => {
  await s?.stop();
  if (s) await removeDir(s.config.dataDir);
});

test('every registered route has a row, and every row a route', () => {
  const routes = registeredRoutes();
  const expected = new Set(Object.keys(expectations));
  const covered = (r: string) => expected.has(r) || (r.startsWith('HEAD ') && expected.has(`GET ${r.slice(5)}`));
  const missing = routes.filter((r) => !covered(r));
  assert.deepEqual(missing, [], `routes without a row in the access matrix: add their expected statuses\n  ${missing.join('\n  ')}`);
  const stale = [...expected].filter((k) => !routes.includes(k));
  assert.deepEqual(stale, [], 'rows for routes the server no longer has');
});

test('the matrix: every route × identity × own/other lab answers as expected, and no 2xx body leaks another lab', async (t) => {
  const routes = registeredRoutes();
  const failures: string[] = [];
  let cells = 0;
  for (const route of routes) {
    const [method, path] = [route.slice(0, route.indexOf(' ')), route.slice(route.indexOf(' ') + 1)];
    const row = expectations[route] ?? (method === 'HEAD' ? expectations[`GET ${path}`] : undefined);
    if (!row) continue; // reported by the test above
    for (const side of ['own', 'other'] as Side[]) {
      const statuses = row[side].split(' ').map(Number);
      assert.equal(statuses.length, identities.length, `${route} ${side}: one status per identity`);
      for (const [i, identity] of identities.entries()) {
        const cell: Cell = { identity, side, lab: side === 'own' ? ownLab[identity] : otherLab[identity] };
        const r = await row.req(cell);
        const headers: Record<string, string> = { ...r.headers };
        let body = r.raw;
        if (r.body !== undefined) {
          headers['content-type'] = 'application/json';
          body = Buffer.from(JSON.stringify(r.body));
        }
        const res = await send(method, r.path, { cookie: await session(identity), headers, ...(body ? { body } : {}) });
        await r.after?.();
        cells++;
        const where = `${route} [${identity}, ${side} lab ${cell.lab}] ${r.path}`;
        if (res.status !== statuses[i]) failures.push(`${where}: ${res.status}, expected ${statuses[i]} ${res.text.slice(0, 160)}`);
        if (res.status >= 200 && res.status < 300) {
          const member = new Set<LabKey>(identity === 'anonymous' ? [] : ([ownLab[identity]] as LabKey[]));
          for (const k of ['A', 'B', 'C', 'D'] as LabKey[]) {
            if (!member.has(k) && res.text.includes(fx.labs[k].marker)) failures.push(`${where}: the answer holds data of lab ${k}`);
          }
        }
      }
    }
  }
  t.diagnostic(`access matrix: ${cells} cells (${routes.length} routes × ${identities.length} identities × own/other lab)`);
  assert.deepEqual(failures, [], `${failures.length} of ${cells} cells differ`);
  assert.ok(cells >= routes.length * identities.length * 2);
});
