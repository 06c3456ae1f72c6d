/** An SRV record as node:dns/promises returns it. */
export interface SrvRecord {
  name: string
  port: number
  priority: number
  weight: number
}

/**
 * The DNS seam of the resolver: the subset of node:dns/promises (`new Resolver()` fits as is)
 * it needs, so tests answer from a table and never touch the network.
 */
export interface DnsLookup {
  resolveSrv(name: string): Promise<SrvRecord[]>
  resolve4(name: string): Promise<string[]>
  resolve6(name: string): Promise<string[]>
}
