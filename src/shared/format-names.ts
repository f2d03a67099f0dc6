/** What the user reads for each engine format name (review, scans list, scan page, CLI). */
export const FORMAT_LABELS: Readonly<Record<string, string>> = {
  'aperio-svs': 'Aperio SVS',
  'hamamatsu-ndpi': 'Hamamatsu NDPI',
  'leica-scn': 'Leica SCN',
  'ventana-bif': 'Ventana BIF',
  'philips-tiff': 'Philips TIFF',
  'ome-tiff': 'OME-TIFF',
  mirax: '3DHistech MIRAX',
  'dicom-wsi': 'DICOM WSI',
  'generic-tiff': 'TIFF',
};

export function formatLabel(format: string | null | undefined): string {
  return (format && FORMAT_LABELS[format]) || format || 'unknown format';
}

/** True for a format name the engine has a driver for (the keys above). */
export function isKnownFormat(format: string | null | undefined): boolean {
  return !!format && Object.hasOwn(FORMAT_LABELS, format);
}
