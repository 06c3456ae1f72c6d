import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void

/** Whether a full garbage collection freed every target: nothing else holds them any more. */
export async function collected(refs: ReadonlyArray<WeakRef<object>>): Promise<boolean> {
  // A WeakRef's target is kept until the end of the job that made or read it.
  await new Promise((resolve) => setImmediate(resolve))
  collectGarbage()
  return refs.every((ref) => ref.deref() === undefined)
}
