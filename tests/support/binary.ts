/** The response body as bytes (a PDF, a zip), not as text. */
export function binary<
  T extends { request: { buffer(on: boolean): { parse(parser: unknown): unknown } } },
>(request: T): T {
  request.request
    .buffer(true)
    .parse((res: NodeJS.ReadableStream, done: (error: Error | null, body: Buffer) => void) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => done(null, Buffer.concat(chunks)))
    })
  return request
}
