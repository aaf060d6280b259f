/**
 * The least a server must do for a durable 1 MiB S3 PutObject, and nothing more: a reference for
 * the sandbox benchmark (sandbox.bench.ts starts it in a process of its own and sends it the same
 * signed requests it sends the sandbox and moto). Per request it reads the body into one buffer,
 * hands the buffer over (transferred, not copied) to one of eight worker threads, which computes
 * the MD5 that PutObject answers as the ETag, writes the body to a new file, fsyncs it, renames it
 * into place and fsyncs the directory (what the sandbox's body store does to keep an acknowledged
 * write through a crash); then it answers 200 with the ETag. It checks no signature, authorizes
 * nothing, keeps no index and no versions: it is the ceiling for any server that keeps those two
 * promises on this machine, not an S3. Eight workers: measured here, more threads than cores
 * still help while they wait on fsync (two: 440/s, four: 537/s, eight: 545/s on two cores).
 *
 *   node --import tsx bench/bare-put-server.ts <directory>   (prints the port it listens on)
 */
import { mkdirSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Worker } from 'node:worker_threads'

const dir = process.argv[2]
if (!dir) throw new Error('usage: bare-put-server.ts <directory>')
mkdirSync(dir, { recursive: true })

// Plain JavaScript for the workers: they need no TypeScript loader.
const WORKER = `
const { parentPort, workerData: dir } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const fs = require('node:fs')
parentPort.on('message', ({ id, buffer }) => {
  const body = new Uint8Array(buffer)
  const md5 = createHash('md5').update(body).digest('hex')
  const tmp = dir + '/tmp-' + id
  const fd = fs.openSync(tmp, 'w', 0o600)
  fs.writeSync(fd, body)
  fs.fsyncSync(fd)
  fs.closeSync(fd)
  fs.renameSync(tmp, dir + '/body-' + (id % 64))
  const d = fs.openSync(dir, 'r')
  fs.fsyncSync(d)
  fs.closeSync(d)
  parentPort.postMessage({ id, md5 })
})
`
const workers = Array.from({ length: 8 }, () => new Worker(WORKER, { eval: true, workerData: dir }))
const waiting = new Map<number, (md5: string) => void>()
for (const w of workers)
  w.on('message', ({ id, md5 }: { id: number; md5: string }) => {
    waiting.get(id)?.(md5)
    waiting.delete(id)
  })
let next = 0

function store(body: Uint8Array): Promise<string> {
  const id = ++next
  return new Promise((resolve) => {
    waiting.set(id, resolve)
    workers[id % workers.length]!.postMessage({ id, buffer: body.buffer }, [body.buffer as ArrayBuffer])
  })
}

const server = createServer((req, res) => {
  void (async () => {
    // node:http ends the body at Content-Length; a body without one is not what the bench sends.
    const length = Number(req.headers['content-length'])
    if (!Number.isSafeInteger(length) || length < 0) {
      res.writeHead(411, { 'content-length': 0, connection: 'close' }).end()
      return
    }
    const body = new Uint8Array(new ArrayBuffer(length))
    let at = 0
    for await (const chunk of req as AsyncIterable<Buffer>) {
      body.set(chunk, at)
      at += chunk.length
    }
    if (at !== length) {
      res.writeHead(400, { 'content-length': 0 }).end()
      return
    }
    const md5 = await store(body)
    res.writeHead(200, { etag: `"${md5}"`, 'content-length': 0 }).end()
  })()
})
server.listen(0, '127.0.0.1', () => console.log((server.address() as AddressInfo).port))
// Stops with its parent: the benchmark closes stdin when it is done (or dies).
process.stdin.resume()
process.stdin.on('end', () => process.exit(0))
