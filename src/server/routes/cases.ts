import type { ScanRow } from '../db/repos/scans.ts';
import type { FastifyInstance } from 'fastify';
import { currentLab, editableLab } from '../auth/session.ts';
import type { CaseRow } from '../db/repos/cases.ts';
import { ApiError, badRequest, notFound } from '../http/api-error.ts';
import { idParam, objectBody, queryInt, queryString, stringField, type RouteDeps } from './deps.ts';
import { scanJson } from './scans.ts';
import { CASE_NUMBER_MAX, validateCaseNumber } from '../../shared/case-number.ts';

/** The client shows its own sentence for this code; the message is for API users. */
const caseExists = (caseNumber: string) => new ApiError(409, 'CASE_EXISTS', `A case with the number ${caseNumber} already exists.`);

/** The one case-number rule (shared/case-number.ts), also applied to uploads' caseNumber. */
function caseNumberField(body: Record<string, unknown>, optional: boolean): string | undefined {
  const v = stringField(body, 'caseNumber', { max: CASE_NUMBER_MAX, optional });
  if (v !== undefined && validateCaseNumber(v) !== null) throw badRequest('caseNumber must not hold control characters');
  return v;
}

const caseJson = (c: CaseRow) => ({ id: c.id, caseNumber: c.caseNumber, description: c.description, scanCount: c.scanCount, createdAt: c.createdAt });

export function caseRoutes(app: FastifyInstance, d: RouteDeps): void {
  const load = async (labId: number, raw: unknown): Promise<CaseRow> => {
    const c = await d.repos.cases.byId(labId, idParam(raw));
    if (!c) throw notFound('case not found');
    return c;
  };

  app.get('/api/cases', async (req) => {
    const lab = currentLab(d.sessions.require(req));
    return { cases: (await d.repos.cases.search(lab.id, queryString(req.query, 'q'), queryInt(req.query, 'limit', 50, 1, 500))).map(caseJson) };
  });

  app.post('/api/cases', async (req, reply) => {
    const lab = editableLab(d.sessions.require(req));
    const body = objectBody(req.body);
    const caseNumber = caseNumberField(body, false)!;
    const description = stringField(body, 'description', { min: 0, max: 2000, optional: true }) ?? '';
    if (await d.repos.cases.byNumber(lab.id, caseNumber)) throw caseExists(caseNumber);
    const c = await d.repos.cases.create(lab.id, caseNumber, description, d.sessions.require(req).user.id);
    return reply.code(201).send({ case: caseJson(c) });
  });

  app.get<{ Params: { id: string } }>('/api/cases/:id', async (req) => {
    const lab = currentLab(d.sessions.require(req));
    const c = await load(lab.id, req.params.id);
    const scans: ScanRow[] = [];
    for (const id of await d.repos.cases.scanIds(lab.id, c.id)) {
      const s = await d.repos.scans.byId(lab.id, id);
      if (s) scans.push(s);
    }
    const links = await d.repos.scans.casesOf(lab.id, scans.map((s) => s.id));
    return { case: caseJson(c), scans: scans.map((s) => scanJson(s, links.get(s.id))) };
  });

  // Rename (a mistyped number) or change the description.
  app.patch<{ Params: { id: string } }>('/api/cases/:id', async (req) => {
    const lab = editableLab(d.sessions.require(req));
    const c = await load(lab.id, req.params.id);
    const body = objectBody(req.body);
    const caseNumber = caseNumberField(body, true);
    const description = stringField(body, 'description', { min: 0, max: 2000, optional: true });
    if (caseNumber === undefined && description === undefined) throw badRequest('nothing to change: give caseNumber or description');
    if (caseNumber !== undefined && caseNumber !== c.caseNumber && await d.repos.cases.byNumber(lab.id, caseNumber)) throw caseExists(caseNumber);
    const updated = await d.repos.cases.update(lab.id, c.id, { ...(caseNumber !== undefined ? { caseNumber } : {}), ...(description !== undefined ? { description } : {}) });
    return { case: caseJson(updated!) };
  });

  app.post<{ Params: { id: string } }>('/api/cases/:id/scans', async (req) => {
    const lab = editableLab(d.sessions.require(req));
    const c = await load(lab.id, req.params.id);
    const { scanIds } = objectBody(req.body);
    if (!Array.isArray(scanIds) || scanIds.length === 0 || scanIds.length > 1000 || !scanIds.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x > 0)) {
      throw badRequest('scanIds must be a non-empty list of scan ids');
    }
    // All or nothing; a scan of another lab is indistinguishable from one that does not exist.
    const missing: number[] = [];
    for (const id of scanIds as number[]) if (!(await d.repos.scans.byId(lab.id, id))) missing.push(id);
    if (missing.length) throw notFound(`scan${missing.length > 1 ? 's' : ''} not found: ${missing.join(', ')}`);
    await d.repos.cases.link(lab.id, c.id, scanIds as number[]);
    return { case: caseJson((await d.repos.cases.byId(lab.id, c.id))!), scanIds: await d.repos.cases.scanIds(lab.id, c.id) };
  });

  app.delete<{ Params: { id: string; scanId: string } }>('/api/cases/:id/scans/:scanId', async (req, reply) => {
    const lab = editableLab(d.sessions.require(req));
    const c = await load(lab.id, req.params.id);
    if (!await d.repos.cases.unlink(lab.id, c.id, idParam(req.params.scanId))) throw notFound('scan is not linked to this case');
    return reply.code(204).send();
  });
}
