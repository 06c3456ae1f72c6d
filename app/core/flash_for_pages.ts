import type { HttpContext } from '@adonisjs/core/http'
import type { ConfigProvider } from '@adonisjs/core/types'
import { configProvider } from '@adonisjs/core'
import type {
  ResolvedSessionConfig,
  SessionData,
  SessionStoreContract,
  SessionStoreFactory,
  SessionStoreWithTaggingContract,
} from '@adonisjs/session/types'

/** Where @adonisjs/session keeps the messages flashed for the next request (`Session#flashKey`). */
const FLASH_KEY = '__flash__'

/**
 * A script's request for data: the web phone's presence list every few seconds, the forwarding
 * state, its credentials. It asks for JSON and not for a page.
 */
export function isScriptRequest(ctx: HttpContext | undefined): boolean {
  // The test clients' session plugins open the stores without a request.
  const accept = ctx?.request?.header('accept') ?? ''
  return accept.includes('application/json') && !accept.includes('text/html')
}

/**
 * Flash messages are meant for the next page, but @adonisjs/session hands them to whichever
 * request of the session comes next. A presence poll that lands between a form's redirect and the
 * page it redirects to takes the page's "saved" notice, or a form's field errors and input, with
 * it. This store lets a script's request read the session without the flash messages, so they
 * stay in the store for the page: nothing changed, nothing written but the expiry touch. Should
 * such a request change the session (a logout, say), the messages it left are written back.
 */
class PageFlashStore implements SessionStoreContract {
  #kept: Record<string, unknown> | null = null

  constructor(private readonly store: SessionStoreContract) {}

  async read(sessionId: string): Promise<SessionData | null> {
    const data = await this.store.read(sessionId)
    if (!data || !(FLASH_KEY in data)) return data
    const { [FLASH_KEY]: flash, ...rest } = data
    this.#kept = (flash as Record<string, unknown> | null) ?? null
    return rest
  }

  async write(sessionId: string, data: SessionData): Promise<void> {
    if (this.#kept) {
      const own = (data[FLASH_KEY] as Record<string, unknown> | undefined) ?? {}
      data = { ...data, [FLASH_KEY]: { ...this.#kept, ...own } }
    }
    await this.store.write(sessionId, data)
  }

  async destroy(sessionId: string): Promise<void> {
    await this.store.destroy(sessionId)
  }

  async touch(sessionId: string): Promise<void> {
    await this.store.touch(sessionId)
  }
}

/** The same with the tagging of the stores that have it (memory, database, Redis). */
class TaggedPageFlashStore extends PageFlashStore implements SessionStoreWithTaggingContract {
  constructor(private readonly tagging: SessionStoreWithTaggingContract) {
    super(tagging)
  }

  async tag(sessionId: string, userId: string | number) {
    await this.tagging.tag(sessionId, userId)
  }

  async untag(sessionId: string, userId: string | number) {
    await this.tagging.untag(sessionId, userId)
  }

  tagged(userId: string | number) {
    return this.tagging.tagged(userId)
  }
}

function forPages(factory: SessionStoreFactory): SessionStoreFactory {
  return (ctx, config) => {
    const store = factory(ctx, config)
    if (!isScriptRequest(ctx)) return store
    return 'tag' in store && 'tagged' in store
      ? new TaggedPageFlashStore(store as SessionStoreWithTaggingContract)
      : new PageFlashStore(store)
  }
}

/** The session config with every store keeping flash messages for pages (see PageFlashStore). */
export function keepFlashForPages<Config extends ResolvedSessionConfig>(
  config: ConfigProvider<Config>
): ConfigProvider<Config> {
  return configProvider.create(async (app) => {
    const resolved = await configProvider.resolve<Config>(app, config)
    if (!resolved) throw new Error('config/session.ts: defineConfig resolved to nothing')
    const stores = Object.fromEntries(
      Object.entries(resolved.stores).map(([name, factory]) => [name, forPages(factory)])
    )
    return { ...resolved, stores }
  })
}
