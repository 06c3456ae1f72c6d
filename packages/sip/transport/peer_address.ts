/** Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d; Via and logs want the plain form. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) {
    return ''
  }
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}
