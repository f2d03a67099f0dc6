import type { Page } from 'playwright-core';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from './server.ts';

// Page-side global inside page.evaluate callbacks (the Node project has no DOM lib).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const axe: any, document: unknown;

/** One axe-core violation, cut down to what a failing test message needs. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  /** Each node's selector path (shadow hosts included) and axe's summary of what is wrong. */
  nodes: { target: string; summary: string }[];
}

/**
 * WCAG 2.0/2.1 A and AA, plus the two landmark rules the issue asks for (every page has a main
 * landmark, all content inside landmarks). Other best-practice rules (heading order, …) are not
 * part of the bar.
 */
const wcagTags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const landmarkRules = ['landmark-one-main', 'region'];

export const viewport = { width: 1366, height: 768 };

let axeSource: Promise<string> | undefined;

/**
 * Runs axe-core on the whole document (axe walks open shadow roots itself). The source is
 * evaluated through the DevTools protocol, not added as a <script>: the app's CSP allows scripts
 * from its own origin only, and evaluation through the protocol is not subject to it, so the
 * policy under test stays the one users get.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFile(join(repoRoot, 'node_modules/axe-core/axe.min.js'), 'utf8');
  const loaded = await page.evaluate('typeof window.axe === "object"');
  if (!loaded) await page.evaluate(await axeSource);
  return page.evaluate(
    async ({ tags, rules }) => {
      const wcag = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
      const land = await axe.run(document, { runOnly: { type: 'rule', values: rules }, resultTypes: ['violations'] });
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      return [...wcag.violations, ...land.violations].map((v: any) => ({
        id: v.id,
        impact: v.impact ?? null,
        help: v.help,
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        nodes: v.nodes.map((n: any) => ({ target: JSON.stringify(n.target), summary: String(n.failureSummary ?? '').replace(/\s+/g, ' ') })),
      }));
    },
    { tags: wcagTags, rules: landmarkRules },
  );
}

/** Node count over all violations (what "39 nodes" in the issue counts). */
export function nodeCount(violations: AxeViolation[]): number {
  return violations.reduce((n, v) => n + v.nodes.length, 0);
}

/** Readable lines for an assertion message. */
export function describeViolations(violations: AxeViolation[]): string {
  return violations
    .map((v) => `${v.id} (${v.impact}): ${v.help}\n${v.nodes.slice(0, 8).map((n) => `    ${n.target} — ${n.summary}`).join('\n')}${v.nodes.length > 8 ? `\n    … ${v.nodes.length - 8} more` : ''}`)
    .join('\n');
}

/**
 * The state as a user sees it at 1366×768: test-output/screenshots/<state>.png (the whole page,
 * 1366 wide), then the axe violations of the same state.
 */
export async function checkPage(page: Page, state: string): Promise<AxeViolation[]> {
  const size = page.viewportSize();
  if (size?.width !== viewport.width || size?.height !== viewport.height) await page.setViewportSize(viewport);
  await page.screenshot({ path: join(repoRoot, 'test-output/screenshots', `${state}.png`), fullPage: true });
  return axeViolations(page);
}
