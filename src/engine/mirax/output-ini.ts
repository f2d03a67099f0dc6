import type { MiraxLayout } from './layout.ts';
import { ASSOCIATED, EMPTY_VALUE } from './layout.ts';
import type { IniFile } from './ini.ts';
import { isInteger } from './ini.ts';
import { fieldId, isKnownName, type MiraxField } from './fields.ts';
import { dataFileName } from './parts.ts';

/**
 * The output's Slidedat.ini, written from the model (never copied): the structure OpenSlide needs
 * with canonical section and file names (LAYER_i_LEVEL_j_SECTION, Data0000.dat, Index.dat), so no
 * text of the input survives but the values that pass the allowlist or that the user kept.
 * Label, macro and thumbnail values become ScanDataLayer_Empty (what MIRAX writes for an unused
 * slot), so OpenSlide finds no associated image; their sections are not written.
 *
 * `keep(field)` says whether a non-critical field is carried over (neutral, or identifying and
 * kept by the user); `slideId` is the output's id.
 */
export function outputIni(ini: IniFile, layout: MiraxLayout, fields: readonly MiraxField[], keep: (f: MiraxField) => boolean, slideId: string): { groups: { name: string; entries: [string, string][] }[]; carried: Set<string> } {
  const byId = new Map(fields.map((f) => [f.id, f]));
  const carried = new Set<string>();
  const groups: { name: string; entries: [string, string][] }[] = [];
  /** Non-structural keys of an input section, under the output section's name. */
  const copyKeys = (from: string, to: string, critical: ReadonlySet<string> = new Set()): void => {
    const entries: [string, string][] = [];
    for (const [key, value] of ini.groups.get(from) ?? []) {
      const f = byId.get(fieldId(from, key))!;
      if (critical.has(key) || f.class === 'critical' || keep(f)) {
        entries.push([key, value]);
        carried.add(f.id);
      }
    }
    if (entries.length > 0 || to.startsWith('LAYER_0_LEVEL_')) groups.push({ name: to, entries });
  };

  // [GENERAL]: allowlisted keys, the id replaced unless the user kept it.
  const general: [string, string][] = [];
  for (const [key, value] of ini.groups.get('GENERAL')!) {
    const f = byId.get(fieldId('GENERAL', key))!;
    if (key === 'SLIDE_ID') {
      general.push([key, slideId]);
      if (slideId === value) carried.add(f.id);
    } else if (f.class === 'critical' || keep(f)) {
      general.push([key, value]);
      carried.add(f.id);
    }
  }
  groups.push({ name: 'GENERAL', entries: general });

  // [HIERARCHICAL]: rebuilt from the layer model.
  const h: [string, string][] = [['INDEXFILE', 'Index.dat']];
  for (const key of ['PAGEELEMENTCOUNT', 'PAGELENGTH']) {
    const v = ini.groups.get('HIERARCHICAL')!.get(key);
    if (v !== undefined && isInteger(v)) h.push([key, v]);
  }
  const name = (key: string, value: string, placeholder: string): string => {
    const f = byId.get(fieldId('HIERARCHICAL', key));
    return isKnownName(value) || (f && keep(f)) ? value : placeholder;
  };
  const associatedValues = new Set<string>(ASSOCIATED.map((a) => a.value));
  const layerKeys = (prefix: 'HIER' | 'NONHIER', sectionPrefix: string): void => {
    const layers = prefix === 'HIER' ? layout.hier : layout.nonhier;
    h.push([`${prefix}_COUNT`, String(layers.length)]);
    layers.forEach((l, i) => {
      const k = `${prefix}_${i}`;
      h.push([`${k}_NAME`, name(`${k}_NAME`, l.name, `Layer_${i}`)]);
      h.push([`${k}_COUNT`, String(l.values.length)]);
      const def = ini.groups.get('HIERARCHICAL')!.get(`${k}_DEFAULT`);
      if (def !== undefined && isInteger(def)) h.push([`${k}_DEFAULT`, def]);
      if (l.section !== undefined) h.push([`${k}_SECTION`, `${sectionPrefix}_${i}_SECTION`]);
      l.values.forEach((v, j) => {
        const vk = `${k}_VAL_${j}`;
        const removedImage = prefix === 'NONHIER' && associatedValues.has(v.name) && layout.associated.some((a) => a.record === v.record);
        h.push([vk, removedImage ? EMPTY_VALUE : name(vk, v.name, `Value_${j}`)]);
        if (v.section !== undefined) h.push([`${vk}_SECTION`, `${sectionPrefix}_${i}_LEVEL_${j}_SECTION`]);
        for (const n of ['IMAGENUMBER_X', 'IMAGENUMBER_Y']) {
          const x = ini.groups.get('HIERARCHICAL')!.get(`${vk}_${n}`);
          if (x !== undefined && isInteger(x)) h.push([`${vk}_${n}`, x]);
        }
      });
    });
  };
  layerKeys('HIER', 'LAYER');
  layerKeys('NONHIER', 'NONHIERLAYER');
  groups.push({ name: 'HIERARCHICAL', entries: h });
  for (const [key, value] of ini.groups.get('HIERARCHICAL')!) {
    // Structure we rewrote counts as carried when its value is unchanged (ids for verification).
    if (h.some(([k, v]) => k === key && v === value)) carried.add(fieldId('HIERARCHICAL', key));
  }

  const files: [string, string][] = [['FILE_COUNT', String(layout.dataFiles.length)]];
  layout.dataFiles.forEach((_, i) => files.push([`FILE_${i}`, dataFileName(i)]));
  groups.push({ name: 'DATAFILE', entries: files });
  for (const [key, value] of ini.groups.get('DATAFILE')!) if (files.some(([k, v]) => k === key && v === value)) carried.add(fieldId('DATAFILE', key));

  layout.zoom.forEach((z, j) => copyKeys(z.group, `LAYER_0_LEVEL_${j}_SECTION`));
  if (layout.position) {
    layout.nonhier.forEach((l, i) => {
      l.values.forEach((v, j) => {
        if (v.record !== layout.position!.record) return;
        if (l.section !== undefined) copyKeys(l.section, `NONHIERLAYER_${i}_SECTION`);
        if (v.section !== undefined) copyKeys(v.section, `NONHIERLAYER_${i}_LEVEL_${j}_SECTION`);
      });
    });
  }
  return { groups, carried };
}
