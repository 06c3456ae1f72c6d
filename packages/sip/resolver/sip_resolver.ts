import { isIP } from 'node:net'
import type SipUri from '#sip/message/sip_uri'
import type { DnsLookup, SrvRecord } from '#sip/resolver/dns_lookup'
import type { SipTarget, SipTargetTransport } from '#sip/resolver/sip_target'

/** What the resolver needs of a URI; a SipUri fits. */
export type ResolvableUri = Pick<SipUri, 'scheme' | 'host' | 'port' | 'transport'>

const DEFAULT_PORT: Record<SipTargetTransport, number> = { udp: 5060, tcp: 5060, tls: 5061 }

const SRV_PREFIX: Record<SipTargetTransport, string> = {
  udp: '_sip._udp',
  tcp: '_sip._tcp',
  tls: '_sips._tcp',
}

export interface SipResolverOptions {
  /** Transports we can send on, in order of preference when DNS leaves the choice to us. */
  transports?: SipTargetTransport[]
  /** Random numbers in [0, 1) for the SRV weight draw; tests inject a sequence. */
  random?: () => number
}

/**
 * RFC 3263 4 server location without NAPTR: the URI's transport parameter, or a numeric host,
 * or an explicit port decide directly; otherwise SRV per transport (priority order, weighted
 * random within a priority, RFC 2782), then A/AAAA of each target; with no SRV at all, A/AAAA of
 * the host on the default port.
 */
export default class SipResolver {
  readonly #transports: SipTargetTransport[]
  readonly #random: () => number

  constructor(
    private readonly dns: DnsLookup,
    options: SipResolverOptions = {}
  ) {
    this.#transports = options.transports ?? ['udp', 'tcp', 'tls']
    this.#random = options.random ?? Math.random
  }

  async resolve(uri: ResolvableUri): Promise<SipTarget[]> {
    const transports = this.#candidateTransports(uri)
    if (transports.length === 0) {
      return []
    }
    if (isIP(uri.host)) {
      // RFC 3263 4.1/4.2: a numeric host is used as is, on the URI's port or the default.
      const transport = transports[0]
      return [
        {
          transport,
          address: uri.host,
          port: uri.port ?? DEFAULT_PORT[transport],
          hostname: uri.host,
        },
      ]
    }
    if (uri.port !== undefined) {
      // RFC 3263 4.2: an explicit port means no SRV lookup.
      return this.#addresses(uri.host, uri.port, transports[0])
    }

    const targets: SipTarget[] = []
    let anySrv = false
    for (const transport of transports) {
      const records = await this.#srv(`${SRV_PREFIX[transport]}.${uri.host}`)
      anySrv ||= records.length > 0
      for (const record of this.#orderSrv(records)) {
        targets.push(...(await this.#addresses(record.name, record.port, transport)))
      }
    }
    if (!anySrv) {
      return this.#addresses(uri.host, DEFAULT_PORT[transports[0]], transports[0])
    }
    return dedupe(targets)
  }

  /**
   * RFC 2782: ascending priority; within a priority, pick by running sum of weights over a
   * random number, remove the pick, repeat. Zero weights get a small chance (they go first in
   * the list so the running sum can land on them). A single "." target means "no service here".
   */
  #orderSrv(records: SrvRecord[]): SrvRecord[] {
    if (records.length === 1 && records[0].name === '.') {
      return []
    }
    const priorities = [...new Set(records.map((record) => record.priority))].sort((a, b) => a - b)
    const ordered: SrvRecord[] = []
    for (const priority of priorities) {
      const pool = records
        .filter((record) => record.priority === priority && record.name !== '.')
        .sort((a, b) => (a.weight === 0 ? -1 : 0) - (b.weight === 0 ? -1 : 0))
      while (pool.length > 0) {
        const total = pool.reduce((sum, record) => sum + record.weight, 0)
        const draw = Math.floor(this.#random() * (total + 1))
        let running = 0
        let index = pool.findIndex((record) => {
          running += record.weight
          return running >= draw
        })
        if (index < 0) {
          index = pool.length - 1
        }
        ordered.push(...pool.splice(index, 1))
      }
    }
    return ordered
  }

  #candidateTransports(uri: ResolvableUri): SipTargetTransport[] {
    const asked = uri.transport
    if (uri.scheme === 'sips') {
      // RFC 3261 26.2.2: SIPS means TLS on every hop; ;transport=tcp on a sips URI still means TLS.
      return this.#transports.includes('tls') ? ['tls'] : []
    }
    if (asked === 'udp' || asked === 'tcp' || asked === 'tls') {
      return this.#transports.includes(asked) ? [asked] : []
    }
    if (asked !== undefined) {
      // ws, sctp ...: nothing DNS can give us a target for.
      return []
    }
    return this.#transports
  }

  async #addresses(
    hostname: string,
    port: number,
    transport: SipTargetTransport
  ): Promise<SipTarget[]> {
    if (isIP(hostname)) {
      return [{ transport, address: hostname, port, hostname }]
    }
    const [v4, v6] = await Promise.all([
      this.#lookup(() => this.dns.resolve4(hostname)),
      this.#lookup(() => this.dns.resolve6(hostname)),
    ])
    return [...v4, ...v6].map((address) => ({ transport, address, port, hostname }))
  }

  #srv(name: string): Promise<SrvRecord[]> {
    return this.#lookup(() => this.dns.resolveSrv(name))
  }

  /**
   * A DNS error (ENODATA, ENOTFOUND, ESERVFAIL, ETIMEOUT ...: node:dns always sets a code) is an
   * empty answer, so that the other transports and names are still tried; anything else is a bug.
   */
  async #lookup<T>(query: () => Promise<T[]>): Promise<T[]> {
    try {
      return await query()
    } catch (error) {
      if (typeof (error as NodeJS.ErrnoException).code === 'string') {
        return []
      }
      throw error
    }
  }
}

function dedupe(targets: SipTarget[]): SipTarget[] {
  const seen = new Set<string>()
  return targets.filter((target) => {
    const key = `${target.transport}|${target.address}|${target.port}`
    if (seen.has(key)) {
      return false
    }
    seen.add(key)
    return true
  })
}
