/** The clock and the one real timer a CoalescedTimers runs on; tests pass a fake one. */
export interface TimerSource {
  /** Monotonic ms. */
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const SYSTEM_TIMER_SOURCE: TimerSource = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms)
    // Media housekeeping must never keep a process alive on its own
    handle.unref()
    return handle
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

/** One scheduled callback; `schedule` may re-arm the same object (no allocation per period). */
export class CoalescedTimer {
  /** When it fires (source ms, on the slot grid); meaningless while not pending. */
  due = 0
  /** Its place in the heap, -1 while not pending. */
  index = -1

  constructor(readonly callback: () => void) {}

  get pending() {
    return this.index >= 0
  }
}

/** How far a timer may fire late so that timers of many calls share one wake-up. */
export const DEFAULT_RESOLUTION_MS = 100

/**
 * One real timer for many: the per-call housekeeping of the media engine (RTCP reports per leg,
 * the bridges' media-timeout checks) on a min-heap of due times rounded up to a grid of
 * `resolutionMs`. The event loop wakes at most once per slot whatever the number of calls (an
 * idle call cost ~190 wake-ups/s per 50 calls, each running cold code), and what is due runs in
 * one pass. A timer fires after at least its delay and at most `resolutionMs` later; never early.
 */
export default class CoalescedTimers {
  readonly #source: TimerSource
  readonly #resolutionMs: number
  #heap: CoalescedTimer[] = []
  #handle: unknown = null
  /** The slot the real timer is armed for; Infinity when it is not armed. */
  #armedFor = Infinity
  /** Wake-ups of the real timer, for tests and benchmarks. */
  wakeups = 0

  constructor(source: TimerSource = SYSTEM_TIMER_SOURCE, resolutionMs = DEFAULT_RESOLUTION_MS) {
    if (!(resolutionMs > 0)) throw new RangeError('resolutionMs must be positive')
    this.#source = source
    this.#resolutionMs = resolutionMs
  }

  /** Timers pending. */
  get size() {
    return this.#heap.length
  }

  /** A new timer, armed for `ms` from now. */
  setTimeout(callback: () => void, ms: number): CoalescedTimer {
    const timer = new CoalescedTimer(callback)
    this.schedule(timer, ms)
    return timer
  }

  /** Arms `timer` for `ms` from now (re-arms it when it is pending). */
  schedule(timer: CoalescedTimer, ms: number) {
    if (timer.index >= 0) this.#remove(timer)
    const resolution = this.#resolutionMs
    // The next slot strictly after now + ms: a timer re-armed from its own callback with 0 ms
    // waits for the next pass instead of looping in this one
    timer.due = (Math.floor((this.#source.now() + Math.max(0, ms)) / resolution) + 1) * resolution
    const heap = this.#heap
    timer.index = heap.length
    heap.push(timer)
    this.#up(timer.index)
    if (timer.due < this.#armedFor) this.#arm(timer.due)
  }

  clearTimeout(timer: CoalescedTimer | null | undefined) {
    if (!timer || timer.index < 0) return
    this.#remove(timer)
    if (this.#heap.length === 0) this.#disarm()
  }

  #arm(due: number) {
    if (this.#handle !== null) this.#source.clearTimeout(this.#handle)
    this.#armedFor = due
    this.#handle = this.#source.setTimeout(this.#fire, Math.max(1, due - this.#source.now()))
  }

  #disarm() {
    if (this.#handle !== null) this.#source.clearTimeout(this.#handle)
    this.#handle = null
    this.#armedFor = Infinity
  }

  #fire = () => {
    this.#handle = null
    this.#armedFor = Infinity
    this.wakeups++
    const now = this.#source.now()
    const heap = this.#heap
    try {
      // One at a time off the top: a callback may cancel or re-arm others (and itself)
      while (heap.length > 0 && heap[0].due <= now) {
        const timer = heap[0]
        this.#remove(timer)
        timer.callback()
      }
    } finally {
      // Also after a throwing callback: the rest still fire (on the next pass)
      if (heap.length > 0 && heap[0].due < this.#armedFor) this.#arm(heap[0].due)
    }
  }

  #remove(timer: CoalescedTimer) {
    const heap = this.#heap
    const index = timer.index
    const last = heap.pop()!
    timer.index = -1
    if (last === timer) return
    heap[index] = last
    last.index = index
    this.#up(index)
    this.#down(last.index)
  }

  #up(index: number) {
    const heap = this.#heap
    const timer = heap[index]
    while (index > 0) {
      const parentIndex = (index - 1) >> 1
      const parent = heap[parentIndex]
      if (parent.due <= timer.due) break
      heap[index] = parent
      parent.index = index
      index = parentIndex
    }
    heap[index] = timer
    timer.index = index
  }

  #down(index: number) {
    const heap = this.#heap
    const timer = heap[index]
    const length = heap.length
    for (;;) {
      let child = 2 * index + 1
      if (child >= length) break
      if (child + 1 < length && heap[child + 1].due < heap[child].due) child++
      if (heap[child].due >= timer.due) break
      heap[index] = heap[child]
      heap[index].index = index
      index = child
    }
    heap[index] = timer
    timer.index = index
  }
}

/**
 * The process's media timers: every leg and bridge of the engine (and of a media worker, which is
 * its own process) shares the one real timer.
 */
export const MEDIA_TIMERS = new CoalescedTimers()
