import { randomBytes } from 'node:crypto'
import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import HttpExceptionHandler from '#core/exceptions/handler'

/** The handler as `bin/start` runs it: development mode, no status pages, Youch's debug page. */
class DevelopmentHandler extends HttpExceptionHandler {
  protected debug = true
  protected renderStatusPages = false
}

// Made at run time: the page shows the source around the error, and this file is that source.
const secret = () => randomBytes(9).toString('hex')

test.group('Development error page', () => {
  test('shows the error but never the cookie, session or authorization values of the request', async ({
    assert,
  }) => {
    const [sessionId, remember, basic, xsrf] = [secret(), secret(), secret(), secret()]
    const ctx = await testUtils.createHttpContext()
    ctx.request.request.headers.accept = 'text/html'
    ctx.request.request.headers.cookie = `adonis-session=${sessionId}; remember_web=${remember}`
    ctx.request.request.headers.authorization = `Basic ${basic}`
    ctx.request.request.headers['x-xsrf-token'] = xsrf

    await new DevelopmentHandler().handle(new Error('boom in development'), ctx)

    const html = String(ctx.response.getBody())
    assert.equal(ctx.response.getStatus(), 500)
    assert.include(html, 'boom in development', 'still a debugging page')
    for (const value of [sessionId, remember, basic, xsrf]) {
      assert.notInclude(html, value)
    }
  })
})
