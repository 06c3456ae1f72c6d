import { Resolver, lookup } from 'node:dns/promises'
import type { DnsLookup, SrvRecord } from '#sip/resolver/dns_lookup'

function noData(name: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`no addresses for ${name}`), { code: 'ENODATA' })
}

/**
 * The system's DNS for SipResolver: SRV from the configured name servers (c-ares, with a short
 * timeout so that a dead server cannot hold a call), A/AAAA through getaddrinfo, so that
 * /etc/hosts and the system's resolver configuration apply as for any other outbound connection.
 */
export default class SystemDnsLookup implements DnsLookup {
  readonly #resolver: Resolver

  constructor(options: { timeoutMs?: number; tries?: number } = {}) {
    this.#resolver = new Resolver({ timeout: options.timeoutMs ?? 2000, tries: options.tries ?? 2 })
  }

  resolveSrv(name: string): Promise<SrvRecord[]> {
    return this.#resolver.resolveSrv(name)
  }

  resolve4(name: string): Promise<string[]> {
    return this.#addresses(name, 4)
  }

  resolve6(name: string): Promise<string[]> {
    return this.#addresses(name, 6)
  }

  async #addresses(name: string, family: 4 | 6): Promise<string[]> {
    const found = await lookup(name, { family, all: true })
    // getaddrinfo may map IPv4 into IPv6 answers on some systems; keep each family's own.
    const addresses = found.filter((entry) => entry.family === family).map((entry) => entry.address)
    if (addresses.length === 0) {
      throw noData(name)
    }
    return addresses
  }
}
