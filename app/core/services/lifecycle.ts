/**
 * What the stop line reports: the signal that ended the process and the calls the shutdown ended
 * (running at the signal, whether they finished during the drain or were ended at its deadline).
 * The calls provider fills it in while it drains; the lifecycle provider prints it last.
 */
class Lifecycle {
  startedAt = Date.now()
  signal: string | null = null
  callsEnded = 0
  callsEndedAtDeadline = 0
}

const lifecycle = new Lifecycle()
export default lifecycle
