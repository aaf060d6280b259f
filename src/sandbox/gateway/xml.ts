/**
 * A small XML writer for responses. Values are plain JS: objects become elements, arrays repeat
 * their element name, `undefined` is omitted. Key order is preserved because AWS's parsers do not
 * care but people reading captures do.
 */
import { XMLParser } from 'fast-xml-parser'

/** A value that can be written as XML content. */
export type XmlValue = string | number | boolean | Date | undefined | null | XmlObject | readonly XmlValue[]
/** An element's children by name. */
export interface XmlObject {
  readonly [name: string]: XmlValue
}

/** Escapes text for element content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;',
  )
}

/** ISO 8601 with milliseconds, as AWS's XML timestamps. */
export function isoTime(d: Date): string {
  return d.toISOString()
}

function writeValue(name: string, v: XmlValue, out: string[]): void {
  if (v === undefined || v === null) return
  if (Array.isArray(v)) {
    for (const item of v as readonly XmlValue[]) writeValue(name, item, out)
    return
  }
  if (v instanceof Date) {
    out.push(`<${name}>${isoTime(v)}</${name}>`)
    return
  }
  if (typeof v === 'object') {
    // Keys starting with `@` are attributes (S3's `<Grantee xsi:type="CanonicalUser">`).
    const entries = Object.entries(v as XmlObject)
    const attrs = entries
      .filter(([k, c]) => k.startsWith('@') && c !== undefined && c !== null)
      .map(([k, c]) => ` ${k.slice(1)}="${escapeXml(String(c as string))}"`)
      .join('')
    out.push(`<${name}${attrs}>`)
    for (const [k, c] of entries) if (!k.startsWith('@')) writeValue(k, c, out)
    out.push(`</${name}>`)
    return
  }
  out.push(`<${name}>${escapeXml(String(v))}</${name}>`)
}

/** Serializes one root element with an optional xmlns, prefixed by the XML declaration. */
export function toXml(root: string, body: XmlObject, xmlns?: string): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n']
  out.push(xmlns ? `<${root} xmlns="${escapeXml(xmlns)}">` : `<${root}>`)
  for (const [k, v] of Object.entries(body)) writeValue(k, v, out)
  out.push(`</${root}>`)
  return out.join('')
}

/** Serializes children only (for nesting pre-built fragments). */
export function xmlChildren(body: XmlObject): string {
  const out: string[] = []
  for (const [k, v] of Object.entries(body)) writeValue(k, v, out)
  return out.join('')
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  removeNSPrefix: true,
})

/** Parses an XML request body into plain objects (all leaf values strings); undefined when malformed. */
export function parseXml(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = parser.parse(text, true)
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}
