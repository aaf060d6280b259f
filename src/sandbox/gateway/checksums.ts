/**
 * The flexible checksums S3 accepts (`x-amz-checksum-*`, base64 of the big-endian digest):
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
 */
import { createHash } from 'node:crypto'
import { crc32, crcTable, crcWithTable } from '../store/blobs.js'

/** Checksum algorithms by their header suffix. */
export type ChecksumAlgorithm = 'crc32' | 'crc32c' | 'crc64nvme' | 'sha1' | 'sha256'

/** Every algorithm, for iterating headers. */
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = [
  'crc32',
  'crc32c',
  'crc64nvme',
  'sha1',
  'sha256',
]

const CRC32C_TABLE = crcTable(0x82f63b78)

// CRC-64/NVME: reflected polynomial 0x9a6c9329ac4bc9b5, init and xorout all ones.
const CRC64_TABLE = (() => {
  const poly = 0x9a6c9329ac4bc9b5n
  const t: bigint[] = []
  for (let i = 0n; i < 256n; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1n ? poly ^ (c >> 1n) : c >> 1n
    t.push(c)
  }
  return t
})()

function crc64nvme(data: Uint8Array): Buffer {
  let c = 0xffffffffffffffffn
  for (let i = 0; i < data.length; i++) c = CRC64_TABLE[Number((c ^ BigInt(data[i]!)) & 0xffn)]! ^ (c >> 8n)
  c ^= 0xffffffffffffffffn
  const out = Buffer.alloc(8)
  out.writeBigUInt64BE(c)
  return out
}

/** A 32-bit checksum as S3 writes it: base64 of its 4 big-endian bytes. */
export function u32Base64(n: number): string {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n >>> 0)
  return b.toString('base64')
}

/** The base64 checksum of data, as S3 reports it. */
export function checksum(alg: ChecksumAlgorithm, data: Uint8Array): string {
  switch (alg) {
    case 'crc32':
      return u32Base64(crc32(data))
    case 'crc32c':
      return u32Base64(crcWithTable(CRC32C_TABLE, data))
    case 'crc64nvme':
      return crc64nvme(data).toString('base64')
    case 'sha1':
      return createHash('sha1').update(data).digest('base64')
    case 'sha256':
      return createHash('sha256').update(data).digest('base64')
  }
}

/** The algorithm named by a header like `x-amz-checksum-crc32`, or undefined. */
export function algorithmOfHeader(name: string): ChecksumAlgorithm | undefined {
  const m = /^x-amz-checksum-(crc32|crc32c|crc64nvme|sha1|sha256)$/.exec(name.toLowerCase())
  return m ? (m[1] as ChecksumAlgorithm) : undefined
}

/** A checksum computed over data given in pieces (a body streamed to disk). */
export interface ChecksumHasher {
  update(data: Uint8Array): void
  /** The base64 checksum, as {@link checksum} gives it for the whole data. */
  digest(): string
}

/** An incremental {@link checksum}. */
export function checksumHasher(alg: ChecksumAlgorithm): ChecksumHasher {
  switch (alg) {
    case 'crc32': {
      let c = 0
      return {
        update(data) {
          c = crc32(data, c)
        },
        digest: () => u32Base64(c),
      }
    }
    case 'crc32c': {
      let c = 0xffffffff
      return {
        update(data) {
          for (let i = 0; i < data.length; i++) c = CRC32C_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8)
        },
        digest: () => u32Base64((c ^ 0xffffffff) >>> 0),
      }
    }
    case 'crc64nvme': {
      let c = 0xffffffffffffffffn
      return {
        update(data) {
          for (let i = 0; i < data.length; i++)
            c = CRC64_TABLE[Number((c ^ BigInt(data[i]!)) & 0xffn)]! ^ (c >> 8n)
        },
        digest: () => {
          const out = Buffer.alloc(8)
          out.writeBigUInt64BE(c ^ 0xffffffffffffffffn)
          return out.toString('base64')
        },
      }
    }
    case 'sha1':
    case 'sha256': {
      const h = createHash(alg)
      return { update: (d) => void h.update(d), digest: () => h.digest('base64') }
    }
  }
}
