import { BlockList, isIP } from 'node:net'

const KEPT_ANSWERS = 1024

/**
 * A set of source addresses given as single addresses or CIDRs ("192.0.2.7", "192.0.2.0/28",
 * "2001:db8::/32"). An IPv4-mapped IPv6 source ("::ffff:192.0.2.7") matches its IPv4 entry.
 */
export default class SourceList {
  readonly #list = new BlockList()
  readonly size: number
  /**
   * Answers for the addresses asked about lately: asked at every message (the rate limit's trusted
   * sources), and the list never changes. Bounded, as the addresses come from the network.
   */
  readonly #answers = new Map<string, boolean>()

  constructor(entries: string[]) {
    for (const entry of entries) SourceList.add(this.#list, entry)
    this.size = entries.length
  }

  /** Throws a RangeError naming the entry when it is no address or CIDR. */
  static validate(entry: string): void {
    SourceList.add(new BlockList(), entry)
  }

  has(address: string): boolean {
    if (this.size === 0) return false
    const kept = this.#answers.get(address)
    if (kept !== undefined) return kept
    if (this.#answers.size >= KEPT_ANSWERS) this.#answers.clear()
    const answer = this.#check(address)
    this.#answers.set(address, answer)
    return answer
  }

  #check(address: string): boolean {
    const plain =
      address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address
    const family = isIP(plain)
    if (family === 0) return false
    return this.#list.check(plain, family === 4 ? 'ipv4' : 'ipv6')
  }

  private static add(list: BlockList, entry: string) {
    const [address, prefixText, ...rest] = entry.trim().split('/')
    const family = isIP(address)
    const max = family === 4 ? 32 : 128
    const prefix = prefixText === undefined ? max : Number(prefixText)
    if (
      family === 0 ||
      rest.length ||
      !Number.isInteger(prefix) ||
      prefix < 0 ||
      prefix > max ||
      prefixText === ''
    ) {
      throw new RangeError(`"${entry}" is not an IP address or CIDR`)
    }
    if (prefix === max) list.addAddress(address, family === 4 ? 'ipv4' : 'ipv6')
    else list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6')
  }
}
