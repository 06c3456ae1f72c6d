/**
 * Bencode (the BitTorrent encoding) as rtpengine's ng protocol uses it: byte strings, integers,
 * lists and dictionaries. Strings are decoded as UTF-8 (SDP and rtpengine's answers are text).
 */

export type BencodeValue = string | number | Buffer | BencodeValue[] | BencodeDictionary
export interface BencodeDictionary {
  [key: string]: BencodeValue | undefined
}

export class BencodeError extends Error {}

export function encode(value: BencodeValue): Buffer {
  const parts: Buffer[] = []
  write(value, parts)
  return Buffer.concat(parts)
}

function write(value: BencodeValue | undefined, parts: Buffer[]) {
  if (typeof value === 'string') return writeBytes(Buffer.from(value, 'utf8'), parts)
  if (Buffer.isBuffer(value)) return writeBytes(value, parts)
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new BencodeError(`bencode has no fractions: ${value}`)
    return parts.push(Buffer.from(`i${value}e`))
  }
  if (Array.isArray(value)) {
    parts.push(Buffer.from('l'))
    for (const item of value) write(item, parts)
    return parts.push(Buffer.from('e'))
  }
  if (value && typeof value === 'object') {
    parts.push(Buffer.from('d'))
    // Keys in byte order, as the format requires
    for (const key of Object.keys(value).sort((a, b) =>
      Buffer.compare(Buffer.from(a), Buffer.from(b))
    )) {
      if (value[key] === undefined) continue
      writeBytes(Buffer.from(key, 'utf8'), parts)
      write(value[key], parts)
    }
    return parts.push(Buffer.from('e'))
  }
  throw new BencodeError(`cannot bencode ${typeof value}`)
}

function writeBytes(bytes: Buffer, parts: Buffer[]) {
  parts.push(Buffer.from(`${bytes.length}:`), bytes)
}

/** Decodes one whole value; anything left over, truncated or malformed is a BencodeError. */
export function decode(input: Buffer): BencodeValue {
  const reader = { input, at: 0, depth: 0 }
  const value = read(reader)
  if (reader.at !== input.length) throw new BencodeError(`trailing bytes at ${reader.at}`)
  return value
}

interface Reader {
  input: Buffer
  at: number
  depth: number
}

const MAX_DEPTH = 32

function read(reader: Reader): BencodeValue {
  const { input } = reader
  if (reader.at >= input.length) throw new BencodeError('truncated')
  const first = input[reader.at]
  if (first === 0x69 /* i */) {
    const end = input.indexOf(0x65 /* e */, reader.at + 1)
    if (end < 0) throw new BencodeError('unterminated integer')
    const text = input.toString('latin1', reader.at + 1, end)
    if (!/^(0|-?[1-9]\d*)$/.test(text)) throw new BencodeError(`bad integer "${text}"`)
    reader.at = end + 1
    return Number(text)
  }
  if (first === 0x6c /* l */ || first === 0x64 /* d */) {
    if (++reader.depth > MAX_DEPTH) throw new BencodeError('nested too deeply')
    reader.at++
    const list: BencodeValue[] = []
    const dictionary: BencodeDictionary = {}
    while (true) {
      if (reader.at >= input.length) throw new BencodeError('unterminated list or dictionary')
      if (input[reader.at] === 0x65) break
      if (first === 0x6c) list.push(read(reader))
      else {
        const key = readBytes(reader).toString('utf8')
        dictionary[key] = read(reader)
      }
    }
    reader.at++
    reader.depth--
    return first === 0x6c ? list : dictionary
  }
  return readBytes(reader).toString('utf8')
}

function readBytes(reader: Reader): Buffer {
  const { input } = reader
  const colon = input.indexOf(0x3a /* : */, reader.at)
  if (colon < 0) throw new BencodeError(`expected a string at ${reader.at}`)
  const lengthText = input.toString('latin1', reader.at, colon)
  if (!/^(0|[1-9]\d*)$/.test(lengthText))
    throw new BencodeError(`bad string length "${lengthText}"`)
  const end = colon + 1 + Number(lengthText)
  if (end > input.length) throw new BencodeError('truncated string')
  reader.at = end
  return input.subarray(colon + 1, end)
}
