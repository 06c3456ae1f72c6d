/*
 * Garbage collection over a stretch of a benchmark (v8.GCProfiler): scavenges, mark-compacts,
 * their cost as V8 reports it, and the bytes allocated in the young generation (its used size
 * before each GC less after the previous one, plus the growth since the last; what V8 allocates
 * straight in old space and off-heap memory such as Buffer backing stores are not counted).
 */
import v8 from 'node:v8'
import { readdirSync, readFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'

type HeapSpaces = { spaceName: string; spaceUsedSize: number }[]

/** Bytes used in the young generation (new space and its large objects). */
function youngUsed(spaces: HeapSpaces) {
  let used = 0
  for (const space of spaces) {
    if (space.spaceName === 'new_space' || space.spaceName === 'new_large_object_space')
      used += space.spaceUsedSize
  }
  return used
}

function youngUsedNow() {
  return youngUsed(
    v8.getHeapSpaceStatistics().map((s) => ({
      spaceName: s.space_name,
      spaceUsedSize: s.space_used_size,
    }))
  )
}

export interface GcWindow {
  scavenges: number
  markCompacts: number
  /** GC pauses as V8 reports them (cost), microseconds. */
  costUs: number
  youngAllocatedBytes: number
  /** CPU of the process's threads in the stretch by name, microseconds (10 ms ticks). */
  threadCpuUs: Record<string, number>
}

/** GC statistics between start() and the returned stop(). */
export function gcWindow(): () => GcWindow {
  const profiler = new v8.GCProfiler()
  profiler.start()
  const startUsed = youngUsedNow()
  const startThreads = threadCpuUs()
  return () => {
    const endUsed = youngUsedNow()
    const threads: Record<string, number> = {}
    for (const [name, us] of threadCpuUs()) threads[name] = us - (startThreads.get(name) ?? 0)
    // (undefined when no collection happened in the stretch: a quiet server's 10 s idle window)
    const { statistics } = (profiler.stop() ?? { statistics: [] }) as unknown as {
      statistics: {
        gcType: string
        cost: number
        beforeGC: { heapSpaceStatistics: HeapSpaces }
        afterGC: { heapSpaceStatistics: HeapSpaces }
      }[]
    }
    const result = {
      scavenges: 0,
      markCompacts: 0,
      costUs: 0,
      youngAllocatedBytes: 0,
      threadCpuUs: threads,
    }
    let previous = startUsed
    for (const gc of statistics) {
      if (gc.gcType === 'Scavenge' || gc.gcType === 'MinorMarkSweep') result.scavenges++
      if (gc.gcType === 'MarkSweepCompact') result.markCompacts++
      result.costUs += gc.cost
      result.youngAllocatedBytes += Math.max(
        0,
        youngUsed(gc.beforeGC.heapSpaceStatistics) - previous
      )
      previous = youngUsed(gc.afterGC.heapSpaceStatistics)
    }
    result.youngAllocatedBytes += Math.max(0, endUsed - previous)
    return result
  }
}

/**
 * V8's sampling heap profiler, objects the GC already collected included (what a per-packet
 * allocation is): the returned function stops it and gives the profile (Chrome DevTools'
 * .heapprofile format). `intervalBytes`: the mean bytes between two samples. `liveOnly`: only
 * the sampled objects still alive when it stops (what outlived the window).
 */
export async function startHeapSampling(
  intervalBytes = 256,
  { liveOnly = false } = {}
): Promise<() => Promise<object>> {
  const session = new Session()
  session.connect()
  await session.post('HeapProfiler.enable')
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: intervalBytes,
    includeObjectsCollectedByMajorGC: !liveOnly,
    includeObjectsCollectedByMinorGC: !liveOnly,
  })
  return async () => {
    const { profile } = await session.post('HeapProfiler.stopSampling')
    session.disconnect()
    return profile
  }
}

/**
 * CPU of this process's threads so far, microseconds, by thread name (Linux: MainThread,
 * V8Worker for V8's platform threads: concurrent marking, parallel scavenging, sweeping, compiling;
 * libuv-worker for libuv's thread pool). /proc's 10 ms ticks: sum several seconds.
 */
export function threadCpuUs(): Map<string, number> {
  const byName = new Map<string, number>()
  for (const task of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${task}/stat`, 'utf8')
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      // utime and stime: fields 14 and 15 of stat, clock ticks (100 per second)
      const us = ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100
      byName.set(name, (byName.get(name) ?? 0) + us)
    } catch {
      // the thread ended meanwhile
    }
  }
  return byName
}
