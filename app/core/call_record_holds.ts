import type { DateTime } from 'luxon'

/** Call records of one company started within [from, until], kept while a billing dispute is open. */
export interface CallRecordHold {
  companyId: number
  from: DateTime
  until: DateTime
}

/**
 * TDDDG § 10: traffic data may be kept beyond the six months while the customer disputes the bill.
 * The seam between who records the holds (privacy) and who deletes call records (calls' retention
 * job): the privacy module registers its source at boot. Until then nothing is held.
 */
export interface CallRecordHoldSource {
  openHolds(): Promise<CallRecordHold[]>
}

class CallRecordHolds implements CallRecordHoldSource {
  #source: CallRecordHoldSource | null = null

  use(source: CallRecordHoldSource | null) {
    this.#source = source
  }

  async openHolds(): Promise<CallRecordHold[]> {
    return this.#source ? this.#source.openHolds() : []
  }
}

const callRecordHolds = new CallRecordHolds()
export default callRecordHolds
