import type { DnsLookup, SrvRecord } from '#sip/resolver/dns_lookup'

function dnsError(code: string, name: string) {
  return Object.assign(new Error(`${code} ${name}`), { code })
}

/**
 * Answers from tables, like node:dns/promises would: a name without records rejects with
 * ENODATA. `failing` names reject with ETIMEOUT. Every query is recorded.
 */
export default class FakeDns implements DnsLookup {
  readonly queries: string[] = []
  srv = new Map<string, SrvRecord[]>()
  a = new Map<string, string[]>()
  aaaa = new Map<string, string[]>()
  failing = new Set<string>()

  async resolveSrv(name: string) {
    return this.#answer('SRV', name, this.srv)
  }

  async resolve4(name: string) {
    return this.#answer('A', name, this.a)
  }

  async resolve6(name: string) {
    return this.#answer('AAAA', name, this.aaaa)
  }

  #answer<T>(type: string, name: string, table: Map<string, T[]>): T[] {
    this.queries.push(`${type} ${name}`)
    if (this.failing.has(name)) {
      throw dnsError('ETIMEOUT', name)
    }
    const records = table.get(name)
    if (!records) {
      throw dnsError('ENODATA', name)
    }
    return records
  }
}

/** Numbers in [0, 1) from a list, repeated; what Math.random would give in a replayed run. */
export function sequence(...values: number[]) {
  let index = 0
  return () => values[index++ % values.length]
}
