/**
 * What lab staff read for each scan status (scans list, scan page, cases, filters). The API's
 * slugs ('needs-mpp', 'corrupt') are for programs; no page shows them.
 */
export type ScanStatusName = 'uploading' | 'corrupt' | 'processing' | 'ready' | 'needs-mpp' | 'failed' | 'quarantined';

export const STATUS_LABELS: Readonly<Record<ScanStatusName, string>> = {
  uploading: 'Uploading',
  corrupt: 'Damaged upload',
  processing: 'Processing',
  ready: 'Ready',
  'needs-mpp': 'Needs MPP',
  failed: 'Failed',
  quarantined: 'Quarantined — failed verification',
};

/** A status in words; an unknown slug (a newer server) is shown as sent rather than hidden. */
export function statusLabel(status: string | null | undefined): string {
  return (status && Object.hasOwn(STATUS_LABELS, status) && STATUS_LABELS[status as ScanStatusName]) || status || 'Unknown';
}
