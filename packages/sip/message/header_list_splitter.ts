/**
 * Splits a header value on the commas that separate list elements, i.e. the commas outside
 * quoted strings and outside angle brackets (a URI in <...> may contain commas).
 * Empty elements are dropped, as RFC 7230's list rule allows.
 */
export default function splitHeaderList(value: string): string[] {
  if (!value.includes(',')) {
    // one element (the usual case): what the loop below would give, without its copies
    const element = value.trim()
    return element.length > 0 ? [element] : []
  }
  const parts: string[] = []
  let inQuotes = false
  let inAngles = false
  let start = 0
  for (let index = 0; index < value.length; index++) {
    const char = value[index]
    if (inQuotes) {
      if (char === '\\') {
        index++
      } else if (char === '"') {
        inQuotes = false
      }
    } else if (char === '"') {
      inQuotes = true
    } else if (char === '<') {
      inAngles = true
    } else if (char === '>') {
      inAngles = false
    } else if (char === ',' && !inAngles) {
      parts.push(value.slice(start, index))
      start = index + 1
    }
  }
  parts.push(value.slice(start))
  return parts.map((part) => part.trim()).filter((part) => part.length > 0)
}
