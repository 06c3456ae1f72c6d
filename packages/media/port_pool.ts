/**
 * Hands out blocks of UDP ports from one inclusive range and takes them back on close. Blocks
 * never overlap, so two legs never race for a port; the cursor moves on round-robin so a just
 * released port is not reused at once (late packets of the old call would land in the new one).
 */
export default class PortPool {
  readonly first: number
  readonly last: number
  #cursor: number
  #inUse = new Set<number>()

  constructor(
    range: [number, number],
    readonly blockSize: number
  ) {
    const [first, last] = range
    if (
      !Number.isInteger(first) ||
      !Number.isInteger(last) ||
      first < 1024 ||
      last > 65535 ||
      first > last
    ) {
      throw new RangeError(`Invalid port range ${first}-${last}: use 1024-65535, first <= last`)
    }
    if (last - first + 1 < blockSize) {
      throw new RangeError(
        `Port range ${first}-${last} is smaller than one block of ${blockSize} ports`
      )
    }
    // Blocks start at multiples of blockSize from the first port (even ports for RTP when 2)
    this.first = first
    this.last = first + Math.floor((last - first + 1) / blockSize) * blockSize - 1
    this.#cursor = first
  }

  get capacity() {
    return (this.last - this.first + 1) / this.blockSize
  }

  get used() {
    return this.#inUse.size
  }

  /** The first port of a free block, or null when every block is taken. */
  acquire(): number | null {
    const blocks = this.capacity
    for (let i = 0; i < blocks; i++) {
      const start = this.#cursor
      this.#cursor = start + this.blockSize > this.last ? this.first : start + this.blockSize
      if (!this.#inUse.has(start)) {
        this.#inUse.add(start)
        return start
      }
    }
    return null
  }

  release(start: number) {
    this.#inUse.delete(start)
  }
}
