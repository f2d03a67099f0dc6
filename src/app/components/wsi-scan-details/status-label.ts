// One list of status words for every page (scans list, scan page, cases): src/shared/status-names.ts.
export { statusLabel } from '../../../shared/status-names.ts';
