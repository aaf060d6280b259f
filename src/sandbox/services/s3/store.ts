/**
 * S3 state. Buckets are global by name (one namespace per partition, as in S3); objects, their
 * versions and multipart uploads have their own tables so listing is an index range scan.
 * Bodies live in the BlobStore: written and fsynced before the row that names them commits.
 */
import type Database from 'better-sqlite3'
import type { Db } from '../../store/db.js'
import { migrateToRowid } from '../../store/layout.js'

/** Bucket default encryption. */
export interface BucketEncryption {
  readonly algorithm: 'AES256' | 'aws:kms' | 'aws:kms:dsse'
  readonly kmsKeyId?: string
  readonly bucketKeyEnabled: boolean
}

/** Public access block settings. */
export interface PublicAccessBlock {
  readonly BlockPublicAcls: boolean
  readonly IgnorePublicAcls: boolean
  readonly BlockPublicPolicy: boolean
  readonly RestrictPublicBuckets: boolean
}

/** A bucket. */
export interface BucketRecord {
  readonly name: string
  readonly account: string
  readonly region: string
  readonly created: string
  policy?: string
  encryption: BucketEncryption
  versioning?: 'Enabled' | 'Suspended'
  publicAccessBlock?: PublicAccessBlock
  ownership?: 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter'
  /** The lifecycle rules as accepted (the SDK's `LifecycleRule`s; dates as ISO 8601 text). */
  lifecycleRules?: readonly unknown[]
  /** The lifecycle configuration XML, as an older sandbox kept it (read by GetBucketLifecycleConfiguration). */
  lifecycle?: string
  tags?: { Key: string; Value: string }[]
}

/** Object metadata kept beside the body. */
export interface ObjectMeta {
  readonly size: number
  readonly etag: string
  readonly lastModified: string
  readonly contentType?: string
  readonly contentEncoding?: string
  readonly contentDisposition?: string
  readonly contentLanguage?: string
  readonly cacheControl?: string
  readonly expires?: string
  readonly userMeta: Record<string, string>
  readonly sse: 'AES256' | 'aws:kms'
  readonly kmsKeyArn?: string
  /** The KMS-encrypted data key (base64) for SSE-KMS bodies. */
  readonly dataKey?: string
  /** The encryption context the data key is bound to. */
  readonly kmsContext?: Record<string, string>
  readonly bucketKeyEnabled?: boolean
  readonly checksums: Partial<Record<string, string>>
  readonly storageClass: string
  readonly tagCount?: number
  /** Object tags (PutObjectTagging or `x-amz-tagging`). */
  readonly tags?: readonly { readonly Key: string; readonly Value: string }[]
  /** The number of parts of an object completed from a multipart upload (absent for any other). */
  readonly partsCount?: number
  /**
   * The sizes of those parts in order, so that GetObject and HeadObject can serve one part
   * (`partNumber`). Objects completed by an older sandbox have `partsCount` without them.
   */
  readonly partSizes?: readonly number[]
  /**
   * The checksums of those parts (`crc32` → base64), kept when the upload was created with a
   * checksum algorithm, for GetObjectAttributes' `ObjectParts`.
   */
  readonly partChecksums?: readonly Partial<Record<string, string>>[]
}

/**
 * Bodies up to this size are stored in the object's row rather than in a file. They then commit
 * in the same SQLite transaction as their metadata — atomic (never torn) and as durable as every
 * other row (WAL: an acknowledged write survives kill -9) — without the two fsyncs a file costs,
 * which dominate small writes. Larger bodies go to the BlobStore.
 */
export const INLINE_MAX = 64 * 1024

/** One version of an object (or a delete marker). */
export interface ObjectRow {
  readonly bucket: string
  readonly key: string
  readonly seq: number
  readonly versionId: string
  readonly latest: boolean
  readonly deleteMarker: boolean
  readonly blob: string | null
  /** The body itself, for bodies of at most {@link INLINE_MAX} bytes. */
  readonly inline: Buffer | null
  readonly meta: ObjectMeta
}

/** A multipart upload in progress. */
export interface UploadRecord {
  readonly uploadId: string
  readonly bucket: string
  readonly key: string
  readonly initiated: string
  readonly initiator: string
  readonly meta: Omit<ObjectMeta, 'size' | 'etag' | 'lastModified' | 'checksums' | 'dataKey'> & {
    readonly checksumAlgorithm?: string
  }
}

/** A part of an upload. */
export interface PartRow {
  readonly partNumber: number
  readonly blob: string
  readonly etag: string
  readonly size: number
  readonly lastModified: string
  /** The flexible checksums the part was sent with (`crc32` → base64). */
  readonly checksums?: Partial<Record<string, string>>
}

interface RawRow {
  bucket: string
  key: string
  seq: number
  version_id: string
  latest: number
  delete_marker: number
  blob: string | null
  inline: Buffer | null
  meta: string
}

function toRow(r: RawRow): ObjectRow {
  return {
    bucket: r.bucket,
    key: r.key,
    seq: r.seq,
    versionId: r.version_id,
    latest: r.latest === 1,
    deleteMarker: r.delete_marker === 1,
    blob: r.blob,
    inline: r.inline,
    meta: JSON.parse(r.meta) as ObjectMeta,
  }
}

const BUCKETS = 'CREATE TABLE s3_buckets (name TEXT PRIMARY KEY, body TEXT NOT NULL)'
const OBJECTS = `CREATE TABLE s3_objects (
  bucket TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, version_id TEXT NOT NULL,
  latest INTEGER NOT NULL, delete_marker INTEGER NOT NULL, blob TEXT, inline BLOB, meta TEXT NOT NULL,
  PRIMARY KEY (bucket, key, seq)
)`

/** Typed access to S3's tables. */
export class S3Store {
  private readonly s: Record<string, Database.Statement>

  constructor(readonly db: Db) {
    // Buckets (policies, configurations) and objects (bodies up to 64 KiB inline) are rows of
    // kilobytes: rowid tables (store/layout.ts says why), migrated from the first layout.
    migrateToRowid(db, 's3_buckets', BUCKETS)
    migrateToRowid(db, 's3_objects', OBJECTS)
    db.exec(`
      ${BUCKETS.replace('CREATE TABLE', 'CREATE TABLE IF NOT EXISTS')};
      ${OBJECTS.replace('CREATE TABLE', 'CREATE TABLE IF NOT EXISTS')};
      CREATE INDEX IF NOT EXISTS s3_objects_latest ON s3_objects (bucket, latest, key);
      CREATE TABLE IF NOT EXISTS s3_uploads (upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS s3_parts (
        upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, blob TEXT NOT NULL, etag TEXT NOT NULL,
        size INTEGER NOT NULL, last_modified TEXT NOT NULL, PRIMARY KEY (upload_id, part_number)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS s3_seq (id INTEGER PRIMARY KEY CHECK (id = 1), next INTEGER NOT NULL);
      INSERT OR IGNORE INTO s3_seq (id, next) VALUES (1, 1);
    `)
    // Parts' checksums (JSON), added after the table: a state directory of an older sandbox gets the column.
    if (!(db.pragma('table_info(s3_parts)') as { name: string }[]).some((c) => c.name === 'checksums'))
      db.exec('ALTER TABLE s3_parts ADD COLUMN checksums TEXT')
    const p = (sql: string): Database.Statement => db.prepare(sql)
    this.s = {
      getBucket: p('SELECT body FROM s3_buckets WHERE name = ?'),
      putBucket: p('INSERT OR REPLACE INTO s3_buckets (name, body) VALUES (?, ?)'),
      delBucket: p('DELETE FROM s3_buckets WHERE name = ?'),
      listBuckets: p('SELECT body FROM s3_buckets ORDER BY name'),
      anyObject: p('SELECT 1 FROM s3_objects WHERE bucket = ? LIMIT 1'),
      anyUpload: p('SELECT 1 FROM s3_uploads WHERE bucket = ? LIMIT 1'),
      latest: p('SELECT * FROM s3_objects WHERE bucket = ? AND key = ? AND latest = 1'),
      version: p('SELECT * FROM s3_objects WHERE bucket = ? AND key = ? AND version_id = ?'),
      versionsOfKey: p('SELECT * FROM s3_objects WHERE bucket = ? AND key = ? ORDER BY seq DESC'),
      nextSeq: p('UPDATE s3_seq SET next = next + 1 WHERE id = 1 RETURNING next - 1 AS seq'),
      clearLatest: p('UPDATE s3_objects SET latest = 0 WHERE bucket = ? AND key = ? AND latest = 1'),
      setLatest: p('UPDATE s3_objects SET latest = 1 WHERE bucket = ? AND key = ? AND seq = ?'),
      insert: p(
        'INSERT INTO s3_objects (bucket, key, seq, version_id, latest, delete_marker, blob, inline, meta) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)',
      ),
      delVersion: p('DELETE FROM s3_objects WHERE bucket = ? AND key = ? AND seq = ?'),
      setMeta: p('UPDATE s3_objects SET meta = ? WHERE bucket = ? AND key = ? AND seq = ?'),
      replaceRow: p(
        'UPDATE s3_objects SET delete_marker = ?, blob = ?, inline = ?, meta = ? WHERE bucket = ? AND key = ? AND seq = ?',
      ),
      listLatest: p(
        'SELECT * FROM s3_objects WHERE bucket = ? AND latest = 1 AND delete_marker = 0 AND key > ? AND key >= ? ORDER BY key LIMIT ?',
      ),
      listVersions: p(
        'SELECT * FROM s3_objects WHERE bucket = ? AND (key > ? OR (key = ? AND seq < ?)) AND key >= ? ORDER BY key, seq DESC LIMIT ?',
      ),
      getUpload: p('SELECT body FROM s3_uploads WHERE upload_id = ?'),
      putUpload: p('INSERT INTO s3_uploads (upload_id, bucket, key, body) VALUES (?, ?, ?, ?)'),
      delUpload: p('DELETE FROM s3_uploads WHERE upload_id = ?'),
      listUploads: p('SELECT body FROM s3_uploads WHERE bucket = ? ORDER BY key, upload_id'),
      putPart: p(
        'INSERT OR REPLACE INTO s3_parts (upload_id, part_number, blob, etag, size, last_modified, checksums) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      getPart: p('SELECT blob FROM s3_parts WHERE upload_id = ? AND part_number = ?'),
      parts: p('SELECT * FROM s3_parts WHERE upload_id = ? ORDER BY part_number'),
      delParts: p('DELETE FROM s3_parts WHERE upload_id = ?'),
      allBlobs: p('SELECT blob FROM s3_objects WHERE blob IS NOT NULL UNION ALL SELECT blob FROM s3_parts'),
    }
  }

  /**
   * Bucket rows read before, as text: every request to a bucket reads its row (owner, policy,
   * settings), and only this process writes the table. Kept as ItemTable's cache is (store/db.ts):
   * text, so each read is a record of its own; filled only outside a transaction; dropped by a write.
   */
  private readonly bucketBodies = new Map<string, string>()

  /** A bucket by name. */
  bucket(name: string): BucketRecord | undefined {
    let body = this.bucketBodies.get(name)
    if (body === undefined) {
      body = (this.s['getBucket']!.get(name) as { body: string } | undefined)?.body
      if (body === undefined) return undefined
      if (!this.db.inTransaction) this.bucketBodies.set(name, body)
    }
    return JSON.parse(body) as BucketRecord
  }

  /** Writes a bucket. */
  putBucket(b: BucketRecord): void {
    this.bucketBodies.delete(b.name)
    this.s['putBucket']!.run(b.name, JSON.stringify(b))
  }

  /** Deletes a bucket row. */
  deleteBucket(name: string): void {
    this.bucketBodies.delete(name)
    this.s['delBucket']!.run(name)
  }

  /** Every bucket, by name. */
  buckets(): BucketRecord[] {
    return (this.s['listBuckets']!.all() as { body: string }[]).map((r) => JSON.parse(r.body) as BucketRecord)
  }

  /** True when the bucket holds any object version or upload. */
  hasContent(bucket: string): boolean {
    return this.s['anyObject']!.get(bucket) !== undefined || this.s['anyUpload']!.get(bucket) !== undefined
  }

  /** The current version of a key (possibly a delete marker). */
  latest(bucket: string, key: string): ObjectRow | undefined {
    const r = this.s['latest']!.get(bucket, key) as RawRow | undefined
    return r ? toRow(r) : undefined
  }

  /** A given version of a key. */
  version(bucket: string, key: string, versionId: string): ObjectRow | undefined {
    const r = this.s['version']!.get(bucket, key, versionId) as RawRow | undefined
    return r ? toRow(r) : undefined
  }

  /**
   * Makes a new current version (or delete marker). With `replaceNull`, the existing `null`
   * version is removed first (unversioned and suspended buckets). Returns the bodies no longer
   * referenced, to remove once the transaction has committed.
   */
  writeVersion(o: {
    bucket: string
    key: string
    versionId: string
    deleteMarker: boolean
    blob: string | null
    inline?: Buffer | null
    meta: ObjectMeta
    replaceNull: boolean
  }): string[] {
    const freed: string[] = []
    this.db.transaction(() => {
      if (o.replaceNull) {
        const old = this.s['version']!.get(o.bucket, o.key, 'null') as RawRow | undefined
        if (old?.latest) {
          // The null version is the current one (an unversioned bucket's every overwrite): it is
          // replaced where it stands. Same key, same place in the version order, still the latest,
          // so only its row changes — no index entry, no new sequence number.
          this.s['replaceRow']!.run(
            o.deleteMarker ? 1 : 0,
            o.blob,
            o.inline ?? null,
            JSON.stringify(o.meta),
            o.bucket,
            o.key,
            old.seq,
          )
          if (old.blob) freed.push(old.blob)
          return
        }
        if (old) {
          this.s['delVersion']!.run(o.bucket, o.key, old.seq)
          if (old.blob) freed.push(old.blob)
        }
      }
      this.s['clearLatest']!.run(o.bucket, o.key)
      const { seq } = this.s['nextSeq']!.get() as { seq: number }
      this.s['insert']!.run(
        o.bucket,
        o.key,
        seq,
        o.versionId,
        o.deleteMarker ? 1 : 0,
        o.blob,
        o.inline ?? null,
        JSON.stringify(o.meta),
      )
    })()
    return freed
  }

  /** Replaces the metadata of one version (object tags change it in place, as in S3). */
  setMeta(row: ObjectRow, meta: ObjectMeta): void {
    this.s['setMeta']!.run(JSON.stringify(meta), row.bucket, row.key, row.seq)
  }

  /** Deletes one version; the newest remaining version becomes current. Returns the freed body. */
  deleteVersion(row: ObjectRow): string | null {
    this.db.transaction(() => {
      this.s['delVersion']!.run(row.bucket, row.key, row.seq)
      if (row.latest) {
        const rest = this.s['versionsOfKey']!.all(row.bucket, row.key) as RawRow[]
        if (rest[0]) this.s['setLatest']!.run(row.bucket, row.key, rest[0].seq)
      }
    })()
    return row.blob
  }

  /** Current, non-deleted objects with key > after and key >= prefix, in key order. */
  listLatest(bucket: string, after: string, prefix: string, limit: number): ObjectRow[] {
    return (this.s['listLatest']!.all(bucket, after, prefix, limit) as RawRow[]).map(toRow)
  }

  /** Versions after (key, seq) in (key asc, seq desc) order. */
  listVersions(
    bucket: string,
    afterKey: string,
    afterSeq: number,
    prefix: string,
    limit: number,
  ): ObjectRow[] {
    return (this.s['listVersions']!.all(bucket, afterKey, afterKey, afterSeq, prefix, limit) as RawRow[]).map(
      toRow,
    )
  }

  /** Every version of a key, newest first. */
  versionsOf(bucket: string, key: string): ObjectRow[] {
    return (this.s['versionsOfKey']!.all(bucket, key) as RawRow[]).map(toRow)
  }

  /** An upload. */
  upload(id: string): UploadRecord | undefined {
    const r = this.s['getUpload']!.get(id) as { body: string } | undefined
    return r ? (JSON.parse(r.body) as UploadRecord) : undefined
  }

  /** Records a new upload. */
  putUpload(u: UploadRecord): void {
    this.s['putUpload']!.run(u.uploadId, u.bucket, u.key, JSON.stringify(u))
  }

  /** Uploads of a bucket. */
  uploads(bucket: string): UploadRecord[] {
    return (this.s['listUploads']!.all(bucket) as { body: string }[]).map(
      (r) => JSON.parse(r.body) as UploadRecord,
    )
  }

  /** Stores a part; returns the body it replaced, if any. */
  putPart(uploadId: string, p: PartRow): string | undefined {
    let old: string | undefined
    this.db.transaction(() => {
      old = (this.s['getPart']!.get(uploadId, p.partNumber) as { blob: string } | undefined)?.blob
      this.s['putPart']!.run(
        uploadId,
        p.partNumber,
        p.blob,
        p.etag,
        p.size,
        p.lastModified,
        p.checksums && Object.keys(p.checksums).length ? JSON.stringify(p.checksums) : null,
      )
    })()
    return old
  }

  /** The parts of an upload, by number. */
  parts(uploadId: string): PartRow[] {
    return (
      this.s['parts']!.all(uploadId) as {
        part_number: number
        blob: string
        etag: string
        size: number
        last_modified: string
        checksums: string | null
      }[]
    ).map((r) => ({
      partNumber: r.part_number,
      blob: r.blob,
      etag: r.etag,
      size: r.size,
      lastModified: r.last_modified,
      checksums: r.checksums ? (JSON.parse(r.checksums) as Partial<Record<string, string>>) : undefined,
    }))
  }

  /** Removes an upload and its parts; returns their bodies. */
  deleteUpload(uploadId: string): string[] {
    const bodies = this.parts(uploadId).map((p) => p.blob)
    this.db.transaction(() => {
      this.s['delParts']!.run(uploadId)
      this.s['delUpload']!.run(uploadId)
    })()
    return bodies
  }

  /** Every body any row refers to (for the start-up sweep of orphans). */
  liveBlobs(): Set<string> {
    return new Set((this.s['allBlobs']!.all() as { blob: string }[]).map((r) => r.blob))
  }
}
