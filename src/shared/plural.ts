/**
 * "1 slide", "2 slides", "0 slides": a count with its noun, never "slide(s)". English only; an
 * irregular plural is given as the third argument (plural(n, 'selection'), plural(n, 'copy', 'copies')).
 */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}
