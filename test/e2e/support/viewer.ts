import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { Page } from 'playwright-core';
import { screenshot } from './browser.ts';

declare const document: { querySelector(s: string): { shadowRoot: { querySelector(s: string): unknown } } | null };

/**
 * Wait until the scan page's viewer has drawn tiles, then compare the canvas's mean colour with
 * OpenSlide's rendering of the stored slide (`expected`): tiles decoded with the right colours.
 */
export async function viewerShows(page: Page, expected: number[], shot: string): Promise<void> {
  await page.evaluate(() => delete (globalThis as unknown as { __viewerPolls?: unknown }).__viewerPolls);
  await page.waitForFunction(() => {
    const details = document.querySelector('wsi-app')?.shadowRoot.querySelector('wsi-scan-details') as { shadowRoot: { querySelector(s: string): { shadowRoot: { querySelector(s: string): unknown } } | null } } | null;
    const viewer = details?.shadowRoot.querySelector('wsi-viewer');
    const canvas = viewer?.shadowRoot.querySelector('canvas') as { width: number; height: number; getContext(t: string): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } } | null;
    if (!canvas || canvas.width === 0) return false;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    // Mean colour of what is drawn (the viewer's dark surround, #222, and unpainted pixels left out).
    const sum = [0, 0, 0];
    let drawn = 0;
    for (let i = 0; i < data.length; i += 16) {
      if (data[i + 3] === 0 || data[i] + data[i + 1] + data[i + 2] < 120) continue;
      for (let c = 0; c < 3; c++) sum[c] += data[i + c];
      drawn++;
    }
    if (drawn <= 100) return false;
    // Tiles fade in and arrive over seconds (JPEG 2000 decodes slowly): only a picture that has
    // not changed over three polls is compared.
    const mean = sum.map((v) => v / drawn);
    const w = globalThis as unknown as { __viewerPolls?: number[][] };
    const polls = (w.__viewerPolls = [...(w.__viewerPolls ?? []), [drawn, ...mean]].slice(-3));
    const stable = polls.length === 3 && polls.every((p) => p.every((v, i) => Math.abs(v - polls[0]![i]!) < 0.5));
    return stable ? mean : false;
  }, undefined, { timeout: 90_000, polling: 700 }).then(async (h) => {
    // The tiles decoded with the right colours: the canvas's mean colour is OpenSlide's (a
    // YCbCr/RGB mix-up turns H&E magenta and green; tile placement moves it far less).
    const seen = (await h.jsonValue()) as number[];
    await screenshot(page, shot);
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(seen[c]! - expected[c]!) < 30, `viewer colour ${seen.map(Math.round)} vs OpenSlide ${expected.map(Math.round)}`);
  }, async (e) => {
    // Evidence: what the scan page showed instead (the viewer's error is in its text).
    await screenshot(page, `${shot}-failed`);
    throw new Error(`${String(e)}\nscan page: ${await page.locator('wsi-scan-details').innerText()}`);
  });
}

/** Mean RGB of OpenSlide's thumbnail of the slide (512 px), bright pixels only. */
export function openslideMeanColour(path: string): number[] {
  const py = [
    'import sys, json, openslide',
    's = openslide.OpenSlide(sys.argv[1])',
    'img = s.get_thumbnail((512, 512)).convert("RGB")',
    'px = [p for p in img.getdata() if sum(p) >= 120]',
    'print(json.dumps([sum(p[c] for p in px) / len(px) for c in range(3)]))',
  ].join('\n');
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', py, path], { encoding: 'utf8' })) as number[];
}
