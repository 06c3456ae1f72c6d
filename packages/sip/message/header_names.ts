/** Compact forms (RFC 3261 7.3.3 and later RFCs) mapped to the full lower-case name. */
const COMPACT_FORMS: Record<string, string> = {
  i: 'call-id',
  m: 'contact',
  f: 'from',
  t: 'to',
  v: 'via',
  l: 'content-length',
  c: 'content-type',
  k: 'supported',
  s: 'subject',
  e: 'content-encoding',
  o: 'event',
  r: 'refer-to',
  b: 'referred-by',
  u: 'allow-events',
  x: 'session-expires',
}

/** Spellings that the simple capitalisation rule below would get wrong. */
const DISPLAY_NAMES: Record<string, string> = {
  'call-id': 'Call-ID',
  'cseq': 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  'rack': 'RAck',
  'rseq': 'RSeq',
  'p-asserted-identity': 'P-Asserted-Identity',
  'p-preferred-identity': 'P-Preferred-Identity',
}

/**
 * Headers whose values are comma-separated lists that may also be spread over several lines
 * (RFC 3261 7.3.1). Authentication headers are deliberately absent: their commas separate
 * parameters, not values.
 */
const LIST_HEADERS = new Set([
  'via',
  'route',
  'record-route',
  'contact',
  'path',
  'service-route',
  'allow',
  'allow-events',
  'supported',
  'require',
  'proxy-require',
  'unsupported',
  'accept',
  'accept-encoding',
  'accept-language',
  'content-encoding',
  'content-language',
  'in-reply-to',
  'alert-info',
  'call-info',
  'error-info',
])

/**
 * Keys of the names seen, so the usual ones are not lower-cased again at every lookup; bounded, as
 * header names come from the network.
 */
const KEYS = new Map<string, string>()
const KEPT_KEYS = 512

/** The key a header is stored and looked up under: lower case, compact form expanded. */
export function headerKey(name: string): string {
  const kept = KEYS.get(name)
  if (kept !== undefined) return kept
  const lower = name.toLowerCase()
  // Own properties only: a header named "constructor" or "__proto__" is an unknown header
  const key = Object.hasOwn(COMPACT_FORMS, lower) ? COMPACT_FORMS[lower] : lower
  if (KEYS.size < KEPT_KEYS) KEYS.set(name, key)
  return key
}

/** Display names of the keys seen, as KEYS above: written at every message sent; bounded too. */
const WRITTEN_NAMES = new Map<string, string>()

/** The name a header is written with: the full form in its usual capitalisation. */
export function headerDisplayName(key: string): string {
  const kept = WRITTEN_NAMES.get(key)
  if (kept !== undefined) return kept
  const name = Object.hasOwn(DISPLAY_NAMES, key)
    ? DISPLAY_NAMES[key]
    : key
        .split('-')
        .map((part) => (part.length > 0 ? part[0].toUpperCase() + part.slice(1) : part))
        .join('-')
  if (WRITTEN_NAMES.size < KEPT_KEYS) WRITTEN_NAMES.set(key, name)
  return name
}

export function isListHeader(key: string): boolean {
  return LIST_HEADERS.has(key)
}
