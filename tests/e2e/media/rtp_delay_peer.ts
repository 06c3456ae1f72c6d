/**
 * A process of its own playing both ends of a relayed RTP stream (forked by the stall test, so a
 * busy test process delays neither its sending nor its receiving): `tx` sends 20 ms PCMA packets
 * to the relay's leg, `rx` receives what the relay sends on. Each packet's delay is measured on
 * this process's clock, from its send to its arrival (sequence number → send time).
 *
 * Messages: ← { ports: { tx, rx } } once bound; → { start: port } starts sending to 127.0.0.1:port;
 * → { report: true } ← { sent, received, maxDelayMs, delays } ; → { stop: true } exits.
 */
import dgram from 'node:dgram'

const tx = dgram.createSocket('udp4')
const rx = dgram.createSocket('udp4')
const sentAt = new Map<number, number>()
const delays: number[] = []
let sent = 0
let player: NodeJS.Timeout | undefined

rx.on('message', (packet) => {
  if (packet.length < 12 || packet[0] >> 6 !== 2) return
  // The relay rewrites sequence numbers to its own: the payload carries ours
  let offset = 12 + 4 * (packet[0] & 0x0f)
  if (packet[0] & 0x10) offset += 4 + 4 * packet.readUInt16BE(offset + 2)
  if (packet.length < offset + 4) return
  const seq = packet.readUInt32BE(offset)
  const at = sentAt.get(seq)
  if (at !== undefined) delays.push(performance.now() - at)
})

await Promise.all(
  [tx, rx].map((socket) => new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve)))
)
process.send!({ ports: { tx: tx.address().port, rx: rx.address().port } })

process.on('message', (message: { start?: number; report?: boolean; stop?: boolean }) => {
  if (message.start) {
    const port = message.start
    const ssrc = 0x1234_5678
    player = setInterval(() => {
      const packet = Buffer.alloc(12 + 160, 0xd5)
      packet[0] = 0x80
      packet[1] = 8
      packet.writeUInt16BE(sent & 0xffff, 2)
      packet.writeUInt32BE((sent * 160) >>> 0, 4)
      packet.writeUInt32BE(ssrc, 8)
      packet.writeUInt32BE(sent, 12)
      sentAt.set(sent, performance.now())
      sent++
      tx.send(packet, port, '127.0.0.1')
    }, 20)
  }
  if (message.report) {
    process.send!({
      sent,
      received: delays.length,
      maxDelayMs: delays.length ? Math.max(...delays) : null,
      delays,
    })
  }
  if (message.stop) {
    clearInterval(player)
    tx.close()
    rx.close()
    process.disconnect()
  }
})
