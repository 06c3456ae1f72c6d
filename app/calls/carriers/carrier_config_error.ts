/** A configured carrier (or sub-processor) that must not load; the message names it and the field. */
export default class CarrierConfigError extends Error {
  constructor(
    public carrier: string,
    public field: string,
    public problem: string
  ) {
    super(`Carrier "${carrier}" is misconfigured: ${field}: ${problem}`)
    this.name = 'CarrierConfigError'
  }
}
