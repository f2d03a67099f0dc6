/**
 * The `keptFields` tus Upload-Metadata value: the ids of identifying fields the user chose to keep
 * in a de-identified upload, so the server's output-alone verification tolerates exactly these.
 *
 * Encoding: ids joined by ',', each id percent-encoded with encodeURIComponent. Ids are not safe
 * to join as they are: Aperio ids hold free text from the file ('aperio:ScanScope ID', and a key
 * may in principle hold a comma), DICOM ids hold '/' and ':'. After encoding, an item holds only
 * unreserved characters and %XX escapes, so ',' can only be the separator. The empty string is
 * the empty list. Shared by the client (encode) and the server (parse) so both agree.
 */

/** Most ids one upload may name: a slide has at most a few hundred fields. */
export const maxKeptFields = 2000;
/** Longest id after decoding (a DICOM id nested a few sequences deep is well under this). */
export const maxKeptFieldLength = 256;

const encodedItem = /^(?:[A-Za-z0-9\-_.!~*'()]|%[0-9A-Fa-f]{2})+$/;
/** 'namespace:key' — namespace as the engine writes them ('tiff', 'aperio', 'dicom', …). */
const fieldId = /^[a-z][a-z0-9-]{0,31}:[^\u0000-\u001f\u007f]+$/;

export function encodeKeptFields(ids: readonly string[]): string {
  return [...new Set(ids)].map((id) => encodeURIComponent(id)).join(',');
}

/**
 * The ids in a `keptFields` value, or a message saying what is wrong with it (never echoing the
 * value: a malformed id could be anything). Duplicates are dropped.
 */
export function parseKeptFields(value: string): string[] | string {
  if (value === '') return [];
  const items = value.split(',');
  if (items.length > maxKeptFields) return `keptFields must name at most ${maxKeptFields} fields`;
  const ids = new Set<string>();
  for (const [i, item] of items.entries()) {
    const where = `keptFields item ${i + 1}`;
    if (!encodedItem.test(item)) return `${where} is not a percent-encoded field id (ids are joined by "," after encodeURIComponent)`;
    let id: string;
    try {
      id = decodeURIComponent(item);
    } catch {
      return `${where} is not valid percent-encoded UTF-8`;
    }
    if (id.length > maxKeptFieldLength) return `${where} is longer than ${maxKeptFieldLength} characters`;
    if (!fieldId.test(id)) return `${where} must be a field id such as tiff:306 or dicom:00100010`;
    ids.add(id);
  }
  return [...ids];
}
