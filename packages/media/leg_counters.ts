import type { MediaLegStats } from '#media/types'

/**
 * A leg's counters on the TypeScript packet path (the C++ path keeps its own). `sent` is the
 * callback of a relayed packet's send: Node's dgram drops a send's error when given none, so the
 * packet counts as sent, or as a send failure, once the operating system has answered.
 */
export default class LegCounters implements MediaLegStats {
  packetsReceived = 0
  packetsSent = 0
  packetsRejected = 0
  sendFailures = 0

  readonly sent = (error: Error | null) => {
    if (error) this.sendFailures++
    else this.packetsSent++
  }
}
