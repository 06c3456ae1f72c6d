import splitHeaderList from '#sip/message/header_list_splitter'
import { headerDisplayName, headerKey, isListHeader } from '#sip/message/header_names'

interface HeaderEntry {
  key: string
  value: string
}

/**
 * The header fields of a message in their original order. Lookup is case-insensitive and
 * understands compact forms; list headers (Via, Contact, Route ...) are split into elements
 * whether they came as one comma-separated line or several lines.
 *
 * Parsed forms are memoised per header and dropped when that header changes, so typed
 * accessors stay in step with the text that will be serialized.
 */
export default class SipHeaders {
  #entries: HeaderEntry[] = []
  #parsed = new Map<string, unknown>()

  constructor(entries: Iterable<[string, string]> = []) {
    for (const [name, value] of entries) {
      this.append(name, value)
    }
  }

  /** The first value; for list headers the first element. */
  get(name: string): string | undefined {
    return this.getAll(name)[0]
  }

  /** Every value in order; list headers split into their elements. */
  getAll(name: string): string[] {
    return this.#valuesOf(headerKey(name))
  }

  #valuesOf(key: string): string[] {
    const list = isListHeader(key)
    const values: string[] = []
    for (const entry of this.#entries) {
      if (entry.key !== key) continue
      if (list) values.push(...splitHeaderList(entry.value))
      else values.push(entry.value)
    }
    return values
  }

  /** Number of header lines with this name, before list splitting. */
  lineCount(name: string): number {
    const key = headerKey(name)
    return this.#entries.filter((entry) => entry.key === key).length
  }

  has(name: string): boolean {
    const key = headerKey(name)
    return this.#entries.some((entry) => entry.key === key)
  }

  /** Replaces every line of this header with the given values, at the position of the first. */
  set(name: string, ...values: string[]): this {
    const key = headerKey(name)
    const entries = this.#entries
    const first = entries.findIndex((entry) => entry.key === key)
    if (first < 0) {
      for (const value of values) entries.push({ key, value })
    } else if (values.length === 1 && !this.#hasAfter(key, first)) {
      // The common case (one line replaced by one value): in place, no new array (issue 17)
      entries[first] = { key, value: values[0] }
    } else {
      this.#entries = entries.filter((entry) => entry.key !== key)
      const added = values.map((value) => ({ key, value }))
      this.#entries.splice(first, 0, ...added)
    }
    this.#parsed.delete(key)
    return this
  }

  #hasAfter(key: string, index: number): boolean {
    const entries = this.#entries
    for (let next = index + 1; next < entries.length; next++) {
      if (entries[next].key === key) return true
    }
    return false
  }

  append(name: string, value: string): this {
    const key = headerKey(name)
    this.#entries.push({ key, value })
    this.#parsed.delete(key)
    return this
  }

  /** Adds a value before the existing ones, as a proxy adds its Via or Record-Route. */
  prepend(name: string, value: string): this {
    const key = headerKey(name)
    const first = this.#entries.findIndex((entry) => entry.key === key)
    this.#entries.splice(first >= 0 ? first : this.#entries.length, 0, { key, value })
    this.#parsed.delete(key)
    return this
  }

  remove(name: string): this {
    const key = headerKey(name)
    this.#entries = this.#entries.filter((entry) => entry.key !== key)
    this.#parsed.delete(key)
    return this
  }

  /** Returns the parsed form of a header, parsing its values only on first use. */
  parsed<T>(name: string, parse: (values: string[]) => T): T {
    const key = headerKey(name)
    const kept = this.#parsed.get(key)
    if (kept !== undefined || this.#parsed.has(key)) {
      return kept as T
    }
    const value = parse(this.#valuesOf(key))
    this.#parsed.set(key, value)
    return value
  }

  /** [display name, value] pairs in order, one per line as stored. */
  *entries(): IterableIterator<[string, string]> {
    for (const entry of this.#entries) {
      yield [headerDisplayName(entry.key), entry.value]
    }
  }

  /**
   * The header section as written on the wire: `Name: value` and CRLF per line as stored, without
   * the lines of `exceptKey` (a lower-case key). What `entries()` gives, without a pair per line.
   */
  lines(exceptKey: string): string {
    let text = ''
    for (const entry of this.#entries) {
      if (entry.key !== exceptKey) text += `${headerDisplayName(entry.key)}: ${entry.value}\r\n`
    }
    return text
  }

  get size(): number {
    return this.#entries.length
  }

  clone(): SipHeaders {
    return new SipHeaders(this.entries())
  }
}
