/** Field paths as users read them: `stages[1].targets[0].account`, `tags["cost center"]`. */

/** One step into a document: a mapping key or a list index. */
export type PathSegment = string | number

/** Formats a path; keys that are not plain identifiers are quoted so the path stays unambiguous. */
export function formatPath(path: readonly PathSegment[]): string {
  let s = ''
  for (const seg of path) {
    if (typeof seg === 'number') s += `[${seg}]`
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) s += s ? `.${seg}` : seg
    else s += `[${JSON.stringify(seg)}]`
  }
  return s
}
