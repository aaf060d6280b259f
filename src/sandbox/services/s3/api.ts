/**
 * S3 over restXml: the service is a route table (`routes.ts`) from (method, bucket or object,
 * sub-resource, header) to one of the operations of `operations/`, each declared once with the
 * HTTP binding of its AWS SDK input and output types (`http.ts`). This file holds what the
 * operations share: authorization by the IAM engine with the bucket policy as resource policy,
 * bodies (SSE-KMS through the sandbox's KMS on the caller's behalf, streamed large bodies,
 * verified reads) and the commit of a new object version. Behaviour and citations in SPEC.md.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { pipeline, Readable } from 'node:stream'
import { formatArn } from '../../../iam/arn.js'
import { endpointHost } from '../../../iam/aws-facts.js'
import type { ContextValue } from '../../../iam/types.js'
import { authorize, decide } from '../../auth/authorize.js'
import { algorithmOfHeader, checksum, type ChecksumAlgorithm } from '../../gateway/checksums.js'
import { AwsError, isAwsError } from '../../errors.js'
import type { SpooledBody } from '../../gateway/spool.js'
import { CorruptBodyError, type BlobWriter } from '../../store/blobs.js'
import type { Runtime } from '../../runtime.js'
import type { KmsInternal } from '../../internal/contracts.js'
import type { RequestContext, RestRequest, RestXmlService } from '../types.js'
import { badDigest, invalidArgument, invalidDigest, noSuchBucket, wrongRegion } from './errors.js'
import { integrityMembers, readInput, refusedMembers, writeOutput } from './http.js'
import { Raw, type Call, type Operation } from './operation.js'
import { COMMON_HINTS, COMMON_MEMBERS } from './operations/common.js'
import { refusalMessage } from '../../operations/index.js'
import { OPERATIONS, parametersOf } from './operations/index.js'
import { route, type Level } from './routes.js'
import { INLINE_MAX, S3Store, type BucketRecord, type ObjectMeta, type ObjectRow } from './store.js'
import { md5, newVersionId } from './util.js'

/**
 * A large body given as pieces (a streamed request, the parts of a multipart upload), stored
 * without ever being whole in memory.
 */
export interface BodySource {
  readonly size: number
  /** The pieces, in order. */
  chunks(): AsyncIterable<Buffer>
  /** Stores the plain bytes as they are (cheaper than copying when the source is one file). */
  store?(): Promise<string>
}

/** The encryption of a write: the request's, else the bucket default. */
export interface Encryption {
  readonly sse: 'AES256' | 'aws:kms'
  readonly keyId?: string
  readonly bucketKey: boolean
}

/** What S3's operations share (built once per service in {@link s3Service}). */
export interface S3Env {
  readonly runtime: Runtime
  readonly store: S3Store
  bucketArn(ctx: RequestContext, b: string): string
  /** Authorizes `s3:<action>` on the bucket (or the object `key`), or throws AccessDenied. */
  allow(
    ctx: RequestContext,
    req: RestRequest,
    action: string,
    b: BucketRecord,
    key?: string,
    extra?: Record<string, ContextValue>,
  ): void
  /** Whether the caller may list the bucket (a missing key is then NoSuchKey, else AccessDenied). */
  mayList(ctx: RequestContext, req: RestRequest, b: BucketRecord): boolean
  getBucket(ctx: RequestContext, name: string): BucketRecord
  fileChunks(path: string): AsyncIterable<Buffer>
  gather(src: BodySource): Promise<Buffer>
  spooledSource(sp: SpooledBody): BodySource
  streamBody(
    ctx: RequestContext,
    b: BucketRecord,
    row: ObjectRow,
    range: { start: number; end: number },
  ): Promise<Readable | undefined>
  readBody(ctx: RequestContext, b: BucketRecord, row: ObjectRow): Promise<Buffer>
  /** Content-MD5 and flexible checksums (headers and trailers) against the body; the checksums verified. */
  verifyIntegrity(req: RestRequest, body: Buffer): Partial<Record<string, string>>
  encryptionFor(
    input: { ServerSideEncryption?: string; SSEKMSKeyId?: string; BucketKeyEnabled?: boolean },
    b: BucketRecord,
  ): Encryption
  /** The condition keys of a write (`s3:x-amz-acl`, …) as sent. */
  writeContext(req: RestRequest): Record<string, ContextValue>
  versionIdFor(b: BucketRecord): string
  freeBodies(ids: readonly (string | null)[]): Promise<void>
  commitObject(
    ctx: RequestContext,
    b: BucketRecord,
    key: string,
    body: Buffer | BodySource,
    meta: Omit<ObjectMeta, 'sse' | 'kmsKeyArn' | 'dataKey' | 'kmsContext' | 'bucketKeyEnabled'>,
    enc: Encryption,
  ): Promise<{ versionId: string; meta: ObjectMeta }>
}

/** The S3 service. */
export function s3Service(runtime: Runtime): RestXmlService {
  const store = new S3Store(runtime.db)
  runtime.registerBlobOwner(() => store.liveBlobs())
  const kms = (): KmsInternal => runtime.internal('kms')

  // ---- authorization ------------------------------------------------------

  function bucketArn(ctx: RequestContext, b: string): string {
    return formatArn({ partition: ctx.partition, service: 's3', resource: b })
  }

  /** Condition keys S3 sets on every request (https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html). */
  function s3Context(req: RestRequest, b: BucketRecord): Record<string, ContextValue> {
    const c: Record<string, ContextValue> = {
      's3:authType': req.presigned ? 'REST-QUERY-STRING' : 'REST-HEADER',
      's3:signatureversion': 'AWS4-HMAC-SHA256',
      's3:ResourceAccount': b.account,
    }
    const sha = req.headers.get('x-amz-content-sha256')
    if (sha !== undefined) c['s3:x-amz-content-sha256'] = sha
    return c
  }

  function allow(
    ctx: RequestContext,
    req: RestRequest,
    action: string,
    b: BucketRecord,
    key?: string,
    extra: Record<string, ContextValue> = {},
  ): void {
    authorize(
      ctx,
      {
        action: `s3:${action}`,
        resource: key === undefined ? bucketArn(ctx, b.name) : `${bucketArn(ctx, b.name)}/${key}`,
        resourceAccount: b.account,
        resourcePolicy: b.policy ? runtime.iam.parsed(b.policy) : undefined,
        resourcePolicyName: `bucket policy of ${b.name}`,
        context: { ...s3Context(req, b), ...extra },
      },
      's3',
    )
  }

  function mayList(ctx: RequestContext, req: RestRequest, b: BucketRecord): boolean {
    return (
      decide(ctx, {
        action: 's3:ListBucket',
        resource: bucketArn(ctx, b.name),
        resourceAccount: b.account,
        resourcePolicy: b.policy ? runtime.iam.parsed(b.policy) : undefined,
        context: s3Context(req, b),
      }).decision === 'Allowed'
    )
  }

  /** KMS errors as S3 reports them: denials as S3 AccessDenied with KMS's sentence, the rest as `KMS.<code>`. */
  function viaKms<T>(f: () => T): T {
    try {
      return f()
    } catch (e) {
      if (isAwsError(e)) {
        if (e.code === 'AccessDeniedException') throw new AwsError('AccessDenied', e.message, 403)
        throw new AwsError(`KMS.${e.code}`, e.message || e.code, 400)
      }
      throw e
    }
  }

  function getBucket(ctx: RequestContext, name: string): BucketRecord {
    const b = store.bucket(name)
    if (!b) throw noSuchBucket(name)
    if (b.region !== ctx.region) throw wrongRegion(ctx.region, b.region)
    return b
  }

  // ---- bodies: SSE-KMS envelope ------------------------------------------

  interface Sealed {
    /** The bytes to store, or a body already in the body store (streamed bodies). */
    stored: Buffer | { blob: string }
    sse: 'AES256' | 'aws:kms'
    kmsKeyArn?: string
    dataKey?: string
    kmsContext?: Record<string, string>
    bucketKeyEnabled?: boolean
  }

  function kmsKeyArnFor(ctx: RequestContext, b: BucketRecord, keyId: string | undefined): string {
    if (keyId === undefined) return kms().awsManagedKeyArn(b.account, b.region, ctx.partition, 's3')
    if (keyId.startsWith('arn:')) return keyId
    // A key id or alias names a key in the bucket owner's account and region.
    return formatArn({
      partition: ctx.partition,
      service: 'kms',
      region: b.region,
      account: b.account,
      resource: keyId.startsWith('alias/') ? keyId : `key/${keyId}`,
    })
  }

  /** Writes a body source, unchanged, into the body store. */
  async function storeSource(src: BodySource): Promise<string> {
    if (src.store) return src.store()
    const w: BlobWriter = await runtime.blobs.writer()
    try {
      for await (const c of src.chunks()) await w.write(c)
      return await w.commit()
    } catch (e) {
      await w.abort()
      throw e
    }
  }

  function fileChunks(path: string): AsyncIterable<Buffer> {
    return createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>
  }

  /** A small body source as one buffer (bodies of at most INLINE_MAX bytes live in their row). */
  async function gather(src: BodySource): Promise<Buffer> {
    const parts: Buffer[] = []
    for await (const c of src.chunks()) parts.push(c)
    return Buffer.concat(parts)
  }

  function spooledSource(sp: SpooledBody): BodySource {
    return { size: sp.size, chunks: () => fileChunks(sp.path), store: () => sp.commit() }
  }

  async function seal(
    ctx: RequestContext,
    b: BucketRecord,
    key: string,
    body: Buffer | BodySource,
    sse: 'AES256' | 'aws:kms',
    keyId: string | undefined,
    bucketKey: boolean,
  ): Promise<Sealed> {
    if (sse === 'AES256')
      return { stored: Buffer.isBuffer(body) ? body : { blob: await storeSource(body) }, sse }
    // The encryption context S3 uses: the object ARN, or the bucket ARN with an S3 Bucket Key
    // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#encryption-context).
    const kmsContext = {
      'aws:s3:arn': bucketKey ? bucketArn(ctx, b.name) : `${bucketArn(ctx, b.name)}/${key}`,
    }
    const arn = kmsKeyArnFor(ctx, b, keyId)
    const dk = viaKms(() => kms().generateDataKey(ctx, arn, kmsContext, endpointHost('s3', b.region)))
    const iv = randomBytes(12)
    const c = createCipheriv('aes-256-gcm', dk.plaintext, iv)
    let stored: Sealed['stored']
    if (Buffer.isBuffer(body)) {
      const ct = Buffer.concat([c.update(body), c.final()])
      stored = Buffer.concat([iv, c.getAuthTag(), ct])
    } else {
      // Layout as for whole bodies: iv (12), tag (16), ciphertext; the tag is written last.
      const w = await runtime.blobs.writer()
      try {
        await w.write(iv)
        await w.write(Buffer.alloc(16))
        for await (const chunk of body.chunks()) await w.write(c.update(chunk))
        await w.write(c.final())
        await w.writeAt(c.getAuthTag(), 12)
        stored = { blob: await w.commit() }
      } catch (e) {
        await w.abort()
        throw e
      }
    }
    return {
      stored,
      sse,
      kmsKeyArn: dk.keyArn,
      dataKey: dk.ciphertext.toString('base64'),
      kmsContext,
      bucketKeyEnabled: bucketKey,
    }
  }

  /** The stored size of a body: SSE-KMS bodies carry a 12-byte IV and a 16-byte tag. */
  function storedSize(row: ObjectRow): number {
    return row.meta.sse === 'aws:kms' && row.meta.dataKey ? row.meta.size + 28 : row.meta.size
  }

  /** Reads a body file, verified against its checksum; a corrupt body names its object. */
  async function readBlob(b: BucketRecord, row: ObjectRow, blob: string): Promise<Buffer> {
    try {
      return await runtime.blobs.read(blob, storedSize(row))
    } catch (e) {
      if (e instanceof CorruptBodyError)
        e.object = `s3://${b.name}/${row.key}${row.versionId !== 'null' ? ` (version ${row.versionId})` : ''}`
      throw e
    }
  }

  /** Bodies larger than this are sent from their file as a stream rather than read whole. */
  const STREAM_READ_MIN = 4 * 1024 * 1024

  /**
   * A large body as a stream of its bytes [start, end], after verifying the whole file against its
   * checksum (hashed in 1 MiB reads); undefined for bodies small enough to read whole. SSE-KMS
   * bodies are decrypted as they are read, with the data key decrypted as the caller.
   */
  async function streamBody(
    ctx: RequestContext,
    b: BucketRecord,
    row: ObjectRow,
    range: { start: number; end: number },
  ): Promise<Readable | undefined> {
    if (!row.blob || row.meta.size <= STREAM_READ_MIN) return undefined
    const blob = row.blob
    try {
      await runtime.blobs.verify(blob, storedSize(row))
    } catch (e) {
      if (e instanceof CorruptBodyError)
        e.object = `s3://${b.name}/${row.key}${row.versionId !== 'null' ? ` (version ${row.versionId})` : ''}`
      throw e
    }
    const path = runtime.blobs.pathOf(blob)
    const m = row.meta
    if (m.sse !== 'aws:kms' || !m.dataKey)
      return createReadStream(path, { start: range.start, end: range.end, highWaterMark: 1024 * 1024 })
    const dk = viaKms(() =>
      kms().decrypt(ctx, Buffer.from(m.dataKey!, 'base64'), m.kmsContext ?? {}, endpointHost('s3', b.region)),
    )
    const fh = await open(path, 'r')
    const head = Buffer.alloc(28)
    try {
      await fh.read(head, 0, 28, 0)
    } finally {
      await fh.close()
    }
    const d = createDecipheriv('aes-256-gcm', dk.plaintext, head.subarray(0, 12))
    d.setAuthTag(head.subarray(12, 28))
    // GCM is a stream cipher: decrypt from the start and keep the asked-for bytes.
    const plain = pipeline(
      createReadStream(path, { start: 28, highWaterMark: 1024 * 1024 }),
      d,
      () => undefined,
    )
    return Readable.from(
      (async function* () {
        let pos = 0
        for await (const c of plain as AsyncIterable<Buffer>) {
          const from = Math.max(range.start - pos, 0)
          const to = Math.min(range.end + 1 - pos, c.length)
          if (to > from) yield c.subarray(from, to)
          pos += c.length
          if (pos > range.end) break
        }
      })(),
    )
  }

  async function readBody(ctx: RequestContext, b: BucketRecord, row: ObjectRow): Promise<Buffer> {
    const stored = row.inline ?? (row.blob ? await readBlob(b, row, row.blob) : undefined)
    if (!stored) return Buffer.alloc(0)
    if (row.meta.sse !== 'aws:kms' || !row.meta.dataKey) return stored
    const m = row.meta
    const dk = viaKms(() =>
      kms().decrypt(ctx, Buffer.from(m.dataKey!, 'base64'), m.kmsContext ?? {}, endpointHost('s3', b.region)),
    )
    const d = createDecipheriv('aes-256-gcm', dk.plaintext, stored.subarray(0, 12))
    d.setAuthTag(stored.subarray(12, 28))
    return Buffer.concat([d.update(stored.subarray(28)), d.final()])
  }

  // ---- request helpers ----------------------------------------------------

  function target(req: RestRequest): { bucket?: string; key?: string } {
    // Virtual-hosted style: <bucket>.localhost[:port] or <bucket>.s3.<anything>.
    const host = req.host.replace(/:\d+$/, '')
    let vbucket: string | undefined
    const m = /^(.+?)\.(?:s3[.-][^]*|localhost)$/.exec(host)
    if (m && !/^\d+\.\d+\.\d+\.\d+$/.test(host) && m[1] !== 's3') vbucket = m[1]
    const path = req.path.startsWith('/') ? req.path.slice(1) : req.path
    if (vbucket !== undefined) return { bucket: vbucket, key: path === '' ? undefined : path }
    if (path === '') return {}
    const i = path.indexOf('/')
    if (i < 0) return { bucket: path }
    const key = path.slice(i + 1)
    return { bucket: path.slice(0, i), key: key === '' ? undefined : key }
  }

  function verifyIntegrity(req: RestRequest, body: Buffer): Partial<Record<string, string>> {
    const sp = req.spooled
    const md5h = req.headers.get('content-md5')
    if (md5h !== undefined) {
      const given = Buffer.from(md5h, 'base64')
      if (given.length !== 16 || !/^[A-Za-z0-9+/]+={0,2}$/.test(md5h)) throw invalidDigest()
      if (!given.equals(sp ? sp.md5 : md5(body))) throw badDigest()
    }
    const out: Partial<Record<string, string>> = {}
    const check = (alg: ChecksumAlgorithm, given: string): void => {
      const actual = sp ? sp.checksums[alg] : checksum(alg, body)
      if (actual !== given)
        throw badDigest(`The ${alg.toUpperCase()} you specified did not match the calculated checksum.`)
      out[alg] = actual
    }
    for (const [name, value] of req.headers) {
      const alg = algorithmOfHeader(name)
      if (alg) check(alg, value)
    }
    for (const [name, value] of req.trailers) {
      const alg = algorithmOfHeader(name)
      if (alg) check(alg, value)
    }
    return out
  }

  /** The encryption a write asks for, or the bucket default (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-encryption.html). */
  function encryptionFor(
    input: { ServerSideEncryption?: string; SSEKMSKeyId?: string; BucketKeyEnabled?: boolean },
    b: BucketRecord,
  ): Encryption {
    const sse = input.ServerSideEncryption
    const keyId = input.SSEKMSKeyId
    const bk = input.BucketKeyEnabled
    if (sse !== undefined) {
      if (sse !== 'AES256' && sse !== 'aws:kms')
        throw invalidArgument(
          'The encryption method specified is not supported',
          'x-amz-server-side-encryption',
          sse,
        )
      if (sse === 'AES256' && keyId !== undefined)
        throw invalidArgument(
          'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms',
          'x-amz-server-side-encryption-aws-kms-key-id',
          keyId,
        )
      const defaultKey = b.encryption.algorithm === 'aws:kms' ? b.encryption.kmsKeyId : undefined
      return {
        sse,
        keyId: sse === 'aws:kms' ? (keyId ?? defaultKey) : undefined,
        bucketKey: bk !== undefined ? bk : b.encryption.bucketKeyEnabled,
      }
    }
    if (keyId !== undefined)
      throw invalidArgument(
        'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms',
        'x-amz-server-side-encryption-aws-kms-key-id',
        keyId,
      )
    if (b.encryption.algorithm === 'AES256') return { sse: 'AES256', bucketKey: false }
    return { sse: 'aws:kms', keyId: b.encryption.kmsKeyId, bucketKey: b.encryption.bucketKeyEnabled }
  }

  function writeContext(req: RestRequest): Record<string, ContextValue> {
    const c: Record<string, ContextValue> = {}
    const sse = req.headers.get('x-amz-server-side-encryption')
    const keyId = req.headers.get('x-amz-server-side-encryption-aws-kms-key-id')
    const acl = req.headers.get('x-amz-acl')
    const sc = req.headers.get('x-amz-storage-class')
    if (sse !== undefined) c['s3:x-amz-server-side-encryption'] = sse
    if (keyId !== undefined) c['s3:x-amz-server-side-encryption-aws-kms-key-id'] = keyId
    if (acl !== undefined) c['s3:x-amz-acl'] = acl
    if (sc !== undefined) c['s3:x-amz-storage-class'] = sc
    return c
  }

  function versionIdFor(b: BucketRecord): string {
    return b.versioning === 'Enabled' ? newVersionId() : 'null'
  }

  async function freeBodies(ids: readonly (string | null)[]): Promise<void> {
    for (const id of ids) if (id) await runtime.blobs.remove(id)
  }

  async function commitObject(
    ctx: RequestContext,
    b: BucketRecord,
    key: string,
    body: Buffer | BodySource,
    meta: Omit<ObjectMeta, 'sse' | 'kmsKeyArn' | 'dataKey' | 'kmsContext' | 'bucketKeyEnabled'>,
    enc: { sse: 'AES256' | 'aws:kms'; keyId?: string; bucketKey: boolean },
  ): Promise<{ versionId: string; meta: ObjectMeta }> {
    const sealed = await seal(ctx, b, key, body, enc.sse, enc.keyId, enc.bucketKey)
    const s = sealed.stored
    const inline = Buffer.isBuffer(s) && s.length <= INLINE_MAX ? s : null
    const blob = inline ? null : Buffer.isBuffer(s) ? await runtime.blobs.write(s) : s.blob
    const full: ObjectMeta = {
      ...meta,
      sse: sealed.sse,
      kmsKeyArn: sealed.kmsKeyArn,
      dataKey: sealed.dataKey,
      kmsContext: sealed.kmsContext,
      bucketKeyEnabled: sealed.bucketKeyEnabled || undefined,
    }
    // The bucket may have been deleted or its versioning changed while the body was written.
    const current = store.bucket(b.name)
    if (!current) {
      if (blob) await runtime.blobs.remove(blob)
      throw noSuchBucket(b.name)
    }
    const versionId = versionIdFor(current)
    const freed = store.writeVersion({
      bucket: b.name,
      key,
      versionId,
      deleteMarker: false,
      blob,
      inline,
      meta: full,
      replaceNull: versionId === 'null',
    })
    await freeBodies(freed)
    return { versionId, meta: full }
  }

  /**
   * Refuses a request that carries a member its operation would not act on (S3Members in
   * operation.ts), before anything is read or authorized; then checks Content-MD5 and the checksum
   * headers of a body the operation does not check itself, so that every operation whose model
   * takes them honours them.
   */
  function refuseUnread(name: string, op: Operation<never, never>, req: RestRequest): void {
    const m = op.members
    if (m?.refusesEveryRequest) return
    const found = refusedMembers(name, op.input, m, COMMON_MEMBERS, req)
    if (found.length) {
      const hints = (m?.refuses ?? {}) as Readonly<Record<string, string | undefined>>
      const message = refusalMessage(
        name,
        found.map((f) => `${f.member} (${f.wire})`),
        {
          refuses: Object.fromEntries(
            found.flatMap((f) => {
              const why = hints[f.member] ?? hints['*'] ?? COMMON_HINTS[f.member]
              return why ? [[`${f.member} (${f.wire})`, why]] : []
            }),
          ),
        },
      )
      // ArgumentName is the first member's wire name; its value is not echoed (an SSE-C key is a secret).
      throw invalidArgument(message, found[0]!.wire.replace(/^\?/, ''), '')
    }
    if (!m?.ownIntegrity && !req.spooled && integrityMembers(name)) verifyIntegrity(req, req.body)
  }

  const env: S3Env = {
    runtime,
    store,
    bucketArn,
    allow,
    mayList,
    getBucket,
    fileChunks,
    gather,
    spooledSource,
    streamBody,
    readBody,
    verifyIntegrity,
    encryptionFor,
    writeContext,
    versionIdFor,
    freeBodies,
    commitObject,
  }

  return {
    name: 's3',
    signingName: 's3',
    protocol: 'rest-xml',
    async handle(req, ctx) {
      const path = target(req)
      const level: Level =
        path.bucket === undefined ? 'service' : path.key === undefined ? 'bucket' : 'object'
      const r = route(req.method, level, req.query, req.headers, parametersOf)
      const op = OPERATIONS.get(r.op)
      if (!op) throw new Error(`sandbox: the S3 route table names ${r.op}, which has no operation`)
      const call: Call = { env, ctx, req }
      refuseUnread(r.op, op, req)
      const input = readInput(r.op, op.input, req, path)
      let out: unknown
      if (op.bucket === false) out = await op.run(input as never, call)
      else {
        const bucket = getBucket(ctx, path.bucket!)
        const expected = req.headers.get('x-amz-expected-bucket-owner')
        if (expected !== undefined && expected !== bucket.account)
          throw new AwsError('AccessDenied', 'Access Denied', 403)
        out = await op.run(input as never, { ...call, bucket })
      }
      return out instanceof Raw ? out.response : writeOutput(r.op, op.output, out as never)
    },
  }
}
