import app from '@adonisjs/core/services/app'
import type { CounterStore } from '#core/counters/types'

let counters: CounterStore

await app.booted(async () => {
  counters = await app.container.make('counters')
})

export { counters as default }
