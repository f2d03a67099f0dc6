import '../../src/app/components/wsi-account/wsi-account.ts';
import '../../src/app/components/wsi-lab-members/wsi-lab-members.ts';
import { loadMe } from '../../src/app/state/session.ts';
import type { Invitation, LabMember, Me } from '../../src/app/api.ts';
import { byText, deepQueryAll, eq, ok, until } from './wizard/support.ts';

/**
 * The account pages against a stubbed server (the rules themselves are tested for real in
 * test/server/accounts.test.ts): what the user sees and which requests each button sends.
 */
interface Stub {
  calls: string[];
  restore: () => void;
}

function stubServer(routes: (method: string, url: string, body: unknown) => { status?: number; body?: unknown } | undefined): Stub {
  const calls: string[] = [];
  const real = window.fetch;
  window.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const method = init?.method ?? 'GET';
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined;
    calls.push(`${method} ${url}${body !== undefined && method !== 'GET' ? ` ${JSON.stringify(body)}` : ''}`);
    const r = routes(method, url, body);
    if (!r) return new Response(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'not found' } }), { status: 404 });
    return new Response(r.body === undefined ? '' : JSON.stringify(r.body), { status: r.status ?? 200, headers: { 'content-type': 'application/json' } });
  };
  return { calls, restore: () => (window.fetch = real) };
}

const me = (over: Partial<Me> = {}): Me => ({
  user: { id: 7, username: 'pat' },
  labs: [
    { id: 1, name: 'Histo Lab', role: 'lab-admin', features: ['bulk-import'] },
    { id: 2, name: 'Cyto Lab', role: 'viewer', features: [] },
  ],
  currentLabId: 1,
  canImport: true,
  pendingInvitations: 1,
  ...over,
});

const invitation: Invitation = { id: 31, lab: { id: 3, name: 'Derm Lab' }, username: 'pat', role: 'lab-user', invitedBy: 'Dr Derm', createdAt: '2026-01-01T00:00:00Z', expiresAt: '2026-01-15T00:00:00Z' };

function mount<E extends HTMLElement>(tag: string, attrs: Record<string, string> = {}): E {
  const el = document.createElement(tag) as E;
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  document.body.replaceChildren(el);
  return el;
}

describe('account page', () => {
  it('lists invitations; Accept sends one request and the list and labs follow the server', async () => {
    let accepted = false;
    const server = stubServer((method, url) => {
      if (url === '/api/me') return { body: accepted ? me({ pendingInvitations: 0, labs: [...me().labs, { id: 3, name: 'Derm Lab', role: 'lab-user', features: [] }] }) : me() };
      if (url === '/api/me/invitations') return { body: { invitations: accepted ? [] : [invitation] } };
      if (method === 'POST' && url === '/api/me/invitations/31/accept') {
        accepted = true;
        return { body: me() };
      }
      return undefined;
    });
    try {
      await loadMe();
      const el = mount('wsi-account');
      await until(() => byText<HTMLElement>(el, 'td', 'Derm Lab'), 'the invitation to Derm Lab');
      ok(byText<HTMLElement>(el, 'td', 'Dr Derm'), 'who invited');
      (await until(() => byText(el, 'button', 'Accept'), 'Accept')).click();
      await until(() => byText<HTMLElement>(el, 'p', 'No invitations.'), 'the answered invitation gone');
      await until(() => byText(el, 'button', 'Work in Derm Lab'), 'the new lab offered to work in');
      eq(server.calls.filter((c) => c.startsWith('POST')), ['POST /api/me/invitations/31/accept {}'], 'one accept, nothing else');
    } finally {
      server.restore();
    }
  });

  it('switching the lab to work in sends the choice', async () => {
    let current = 1;
    const server = stubServer((method, url, body) => {
      if (url === '/api/me') return { body: me({ currentLabId: current }) };
      if (url === '/api/me/invitations') return { body: { invitations: [] } };
      if (method === 'POST' && url === '/api/me/lab') {
        current = (body as { labId: number }).labId;
        return { body: me({ currentLabId: current }) };
      }
      return undefined;
    });
    try {
      await loadMe();
      const el = mount('wsi-account');
      (await until(() => byText(el, 'button', 'Work in Cyto Lab'), 'Work in Cyto Lab')).click();
      await until(() => byText(el, 'button', 'Work in Histo Lab'), 'Histo Lab offered instead');
      ok(server.calls.includes('POST /api/me/lab {"labId":2}'), 'the choice was sent');
    } finally {
      server.restore();
    }
  });

  it('change password: mismatch caught here, the server\'s policy message shown, success confirmed', async () => {
    let attempts = 0;
    const server = stubServer((method, url) => {
      if (url === '/api/me') return { body: me() };
      if (url === '/api/me/invitations') return { body: { invitations: [] } };
      if (method === 'POST' && url === '/api/me/password') {
        attempts++;
        if (attempts === 1) return { status: 400, body: { error: { code: 'PASSWORD_COMMON', message: 'this password is on the list of commonly used passwords; choose another' } } };
        return { body: me() };
      }
      return undefined;
    });
    try {
      await loadMe();
      const el = mount('wsi-account');
      const form = await until(() => deepQueryAll<HTMLFormElement>(el, 'form')[0], 'the password form');
      const fill = (cur: string, next: string, again: string) => {
        (form.querySelector('[name=currentPassword]') as HTMLInputElement).value = cur;
        (form.querySelector('[name=newPassword]') as HTMLInputElement).value = next;
        (form.querySelector('[name=confirm]') as HTMLInputElement).value = again;
        form.requestSubmit();
      };
      fill('old secret words', 'qwertyuiop12', 'qwertyuiop13');
      await until(() => byText<HTMLElement>(el, 'p', 'The two new passwords differ.'), 'the mismatch');
      eq(attempts, 0, 'nothing sent for a mismatch');
      fill('old secret words', 'qwertyuiop12', 'qwertyuiop12');
      await until(() => byText<HTMLElement>(el, 'p', /commonly used passwords/), 'the policy message');
      fill('old secret words', 'a much better passphrase', 'a much better passphrase');
      await until(() => byText<HTMLElement>(el, 'p', /Password changed/), 'the confirmation');
      eq(attempts, 2, 'two requests');
    } finally {
      server.restore();
    }
  });

  it('forced mode (after a reset) shows only the password form', async () => {
    const server = stubServer((_m, url) => (url === '/api/me' ? { body: me({ mustChangePassword: true }) } : undefined));
    try {
      await loadMe();
      const el = mount('wsi-account', { forced: '' });
      await until(() => byText<HTMLElement>(el, 'h2', 'Choose a new password'), 'the forced heading');
      ok(!byText<HTMLElement>(el, 'h2', 'Invitations'), 'no invitations section');
      ok(!server.calls.includes('GET /api/me/invitations'), 'invitations not even asked for');
    } finally {
      server.restore();
    }
  });
});

describe('members page (lab admin)', () => {
  const members = (): LabMember[] => [
    { id: 7, username: 'pat', displayName: 'Pat', role: 'lab-admin' },
    { id: 8, username: 'sam', displayName: 'Sam', role: 'lab-user' },
  ];

  it('the last lab admin: the server\'s 409 is shown and the role stays as the server has it', async () => {
    const server = stubServer((method, url) => {
      if (url === '/api/me') return { body: me() };
      if (url === '/api/labs/1/users' && method === 'GET') return { body: { users: members() } };
      if (url === '/api/labs/1/invitations' && method === 'GET') return { body: { invitations: [] } };
      if (url === '/api/labs/1/users/7' && method === 'PUT') return { status: 409, body: { error: { code: 'LAST_LAB_ADMIN', message: 'this is the last lab admin of the lab: make another member lab admin first' } } };
      return undefined;
    });
    try {
      await loadMe();
      const el = mount('wsi-lab-members', { 'lab-id': '1' });
      const select = await until(() => deepQueryAll<HTMLSelectElement>(el, 'select[aria-label="Role of pat"]')[0], 'pat\'s role');
      select.value = 'viewer';
      select.dispatchEvent(new Event('change'));
      await until(() => byText<HTMLElement>(el, 'p', /last lab admin/), 'the refusal');
      await until(() => (deepQueryAll<HTMLSelectElement>(el, 'select[aria-label="Role of pat"]')[0]?.value === 'lab-admin' ? true : undefined), 'the role shown as the server has it');
      ok(server.calls.includes('PUT /api/labs/1/users/7 {"role":"viewer"}'), 'the change was asked for');
    } finally {
      server.restore();
    }
  });

  it('remove asks first; reset shows the temporary password once; invite sends username and role', async () => {
    let list = members();
    const server = stubServer((method, url, body) => {
      if (url === '/api/me') return { body: me() };
      if (url === '/api/labs/1/users' && method === 'GET') return { body: { users: list } };
      if (url === '/api/labs/1/invitations' && method === 'GET') return { body: { invitations: [] } };
      if (url === '/api/labs/1/users/8' && method === 'DELETE') {
        list = list.filter((m) => m.id !== 8);
        return { status: 204 };
      }
      if (url === '/api/labs/1/users/8/password-reset') return { body: { temporaryPassword: 'Tmp7kQ2xW9pLm4Rz8Vb3', expiresAt: '2026-01-04T00:00:00Z' } };
      if (url === '/api/labs/1/invitations' && method === 'POST') return { status: 202, body: { invitation: { ...invitation, ...(body as object) } } };
      return undefined;
    });
    try {
      await loadMe();
      const el = mount('wsi-lab-members', { 'lab-id': '1' });
      await until(() => byText<HTMLElement>(el, 'td', 'sam'), 'sam listed');
      ok(!deepQueryAll<HTMLElement>(el, 'tr[data-user="pat"] button').some((b) => b.textContent?.includes('Reset password')), 'no reset of one\'s own password here');

      (deepQueryAll<HTMLButtonElement>(el, 'tr[data-user="sam"] button').find((b) => b.textContent?.includes('Reset password')))!.click();
      (await until(() => byText(el, 'button', 'Yes, reset'), 'the reset confirmation')).click();
      await until(() => byText<HTMLElement>(el, 'code', 'Tmp7kQ2xW9pLm4Rz8Vb3'), 'the temporary password');
      (await until(() => byText(el, 'button', 'Done'), 'Done')).click();
      await until(() => (byText<HTMLElement>(el, 'code', 'Tmp7kQ2xW9pLm4Rz8Vb3') ? undefined : true), 'the temporary password gone after Done');

      (deepQueryAll<HTMLButtonElement>(el, 'tr[data-user="sam"] button').find((b) => b.textContent?.trim() === 'Remove'))!.click();
      ok(!server.calls.some((c) => c.startsWith('DELETE')), 'nothing removed before confirming');
      (await until(() => byText(el, 'button', 'Yes, remove'), 'the remove confirmation')).click();
      await until(() => (byText<HTMLElement>(el, 'td', 'sam') ? undefined : true), 'sam gone');

      const form = deepQueryAll<HTMLFormElement>(el, 'form')[0];
      (form.querySelector('[name=username]') as HTMLInputElement).value = 'dr.lee';
      (form.querySelector('[name=role]') as HTMLSelectElement).value = 'viewer';
      form.requestSubmit();
      await until(() => byText<HTMLElement>(el, 'p', /Invitation for dr\.lee recorded/), 'the invitation notice');
      ok(server.calls.includes('POST /api/labs/1/invitations {"username":"dr.lee","role":"viewer"}'), 'invite request');
    } finally {
      server.restore();
    }
  });

  it('a new account gets a one-time password, shown once with a copy button; deactivate asks first, reactivate does not', async () => {
    let list: LabMember[] = [...members(), { id: 9, username: 'ex', displayName: 'Ex', role: 'viewer', deactivatedAt: '2026-01-02T00:00:00Z' }];
    const server = stubServer((method, url, body) => {
      if (url === '/api/me') return { body: me() };
      if (url === '/api/labs/1/users' && method === 'GET') return { body: { users: list } };
      if (url === '/api/labs/1/invitations' && method === 'GET') return { body: { invitations: [] } };
      if (url === '/api/labs/1/users' && method === 'POST') {
        const b = body as { username: string; role: LabMember['role'] };
        list = [...list, { id: 10, username: b.username, displayName: b.username, role: b.role, deactivatedAt: null }];
        return { status: 201, body: { user: list.at(-1), temporaryPassword: 'Otp4Kq9xW2pLm7Rz3Vb8', expiresAt: '2026-01-04T00:00:00Z' } };
      }
      const status = /^\/api\/labs\/1\/users\/(\d+)\/status$/.exec(url);
      if (status && method === 'PUT') {
        const active = (body as { active: boolean }).active;
        list = list.map((m) => (m.id === Number(status[1]) ? { ...m, deactivatedAt: active ? null : '2026-01-03T00:00:00Z' } : m));
        return { body: { user: list.find((m) => m.id === Number(status[1])) } };
      }
      return undefined;
    });
    try {
      await loadMe();
      const el = mount('wsi-lab-members', { 'lab-id': '1' });
      await until(() => byText<HTMLElement>(el, 'td', 'Deactivated'), 'ex shown as deactivated');
      ok(!deepQueryAll<HTMLElement>(el, 'tr[data-user="pat"] button').some((b) => b.textContent?.includes('Deactivate')), 'no deactivating oneself');

      const form = deepQueryAll<HTMLFormElement>(el, 'form')[1];
      ok(!form.querySelector('[name=password]'), 'no password to type by default: the server makes a one-time password');
      (form.querySelector('[name=username]') as HTMLInputElement).value = 'kim';
      form.requestSubmit();
      await until(() => byText<HTMLElement>(el, 'code', 'Otp4Kq9xW2pLm7Rz3Vb8'), 'the one-time password');
      ok(server.calls.includes('POST /api/labs/1/users {"username":"kim","role":"lab-user","oneTimePassword":true}'), 'one-time password asked for');
      ok(byText(el, 'button', 'Copy'), 'a copy button');
      (await until(() => byText(el, 'button', 'Done'), 'Done')).click();

      (deepQueryAll<HTMLButtonElement>(el, 'tr[data-user="sam"] button').find((b) => b.textContent?.trim() === 'Deactivate'))!.click();
      ok(!server.calls.some((c) => c.includes('/status')), 'nothing sent before confirming');
      (await until(() => byText(el, 'button', 'Yes, deactivate'), 'the confirmation')).click();
      await until(() => byText<HTMLElement>(el, 'p', /sam is deactivated and signed out/), 'the notice');
      ok(server.calls.includes('PUT /api/labs/1/users/8/status {"active":false}'), 'deactivate request');
      (await until(() => deepQueryAll<HTMLButtonElement>(el, 'tr[data-user="ex"] button').find((b) => b.textContent?.trim() === 'Reactivate'), 'Reactivate')).click();
      await until(() => byText<HTMLElement>(el, 'p', /ex can sign in again/), 'the reactivation notice');
      ok(server.calls.includes('PUT /api/labs/1/users/9/status {"active":true}'), 'reactivate request');
    } finally {
      server.restore();
    }
  });
});

describe('API tokens on the account page', () => {
  it('API tokens: listed; a new one shown once with Copy; revoking asks first', async () => {
    const token = `wsi_${'k'.repeat(43)}`;
    let tokens = [{ id: 4, name: 'Old PC', labId: 1, labName: 'Histo Lab', createdAt: '2026-01-02T09:00:00Z', lastUsedAt: null as string | null }];
    const server = stubServer((method, url, body) => {
      if (url === '/api/me') return { body: me() };
      if (url === '/api/me/invitations') return { body: { invitations: [] } };
      if (method === 'GET' && url === '/api/me/tokens') return { body: { tokens } };
      if (method === 'POST' && url === '/api/me/tokens') {
        const made = { id: 5, name: (body as { name: string }).name, labId: 1, labName: 'Histo Lab', createdAt: '2026-01-03T09:00:00Z' };
        tokens = [{ ...made, lastUsedAt: null }, ...tokens];
        return { status: 201, body: { ...made, token } };
      }
      if (method === 'DELETE' && url === '/api/me/tokens/4') {
        tokens = tokens.filter((t) => t.id !== 4);
        // (The server answers 204; the stub's Response cannot carry '' with a 204.)
        return { status: 200 };
      }
      return undefined;
    });
    try {
      await loadMe();
      const el = mount('wsi-account');
      await until(() => byText<HTMLElement>(el, 'h2', 'API tokens for automated uploads'), 'the section');
      await until(() => byText<HTMLElement>(el, 'td', 'Old PC'), 'the listed token');
      ok(byText<HTMLElement>(el, 'td', 'Never'), 'never used');
      const form = await until(() => deepQueryAll<HTMLFormElement>(el, 'form').find((f) => f.querySelector('[name=name]')), 'the token form');
      (form.querySelector('[name=name]') as HTMLInputElement).value = 'Scanner PC';
      form.requestSubmit();
      await until(() => byText<HTMLElement>(el, 'code', token), 'the new token, shown');
      ok(byText<HTMLElement>(el, 'p', 'Copy it now: it is not shown again. Use it with wsi-import upload --token-file.'), 'the warning');
      ok(byText(el, 'button', 'Copy'), 'a copy button');
      ok(server.calls.includes('POST /api/me/tokens {"name":"Scanner PC"}'), 'created with its name');
      await until(() => byText<HTMLElement>(el, 'td', 'Scanner PC'), 'listed');
      (await until(() => byText(el, 'button', 'Done'), 'Done')).click();
      await until(() => !byText<HTMLElement>(el, 'code', token) || undefined, 'the token gone once dismissed');

      (await until(() => deepQueryAll<HTMLButtonElement>(el, 'button').find((b) => b.getAttribute('aria-label') === 'Revoke Old PC'), 'Revoke')).click();
      ok(!server.calls.some((c) => c.startsWith('DELETE')), 'nothing sent before confirming');
      (await until(() => byText(el, 'button', 'Yes, revoke'), 'the confirmation')).click();
      await until(() => byText<HTMLElement>(el, 'p', 'Token Old PC revoked.'), 'the notice');
      ok(server.calls.includes('DELETE /api/me/tokens/4'), 'the revocation');
      ok(!byText<HTMLElement>(el, 'td', 'Old PC'), 'no longer listed');
    } finally {
      server.restore();
    }
  });
});
