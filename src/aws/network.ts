/**
 * Network failures as user errors. Kept apart from the SDK clients (no SDK import) so that the
 * CLI's last-resort error mapping can use it without loading the SDK.
 */
import { CrosspipeError } from '../model/errors.js'

/**
 * Node's socket error codes for an endpoint that cannot be reached
 * (https://nodejs.org/api/errors.html#common-system-errors), and TLS verification failures.
 */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

/** An endpoint that cannot be reached, as a user error that says what to check; else undefined. */
export function networkError(err: unknown): CrosspipeError | undefined {
  if (!(err instanceof Error)) return undefined
  const code = (err as { code?: unknown }).code
  if (typeof code !== 'string' || !NETWORK_CODES.has(code)) return undefined
  const hint =
    code === 'ENOTFOUND' || code === 'EAI_AGAIN'
      ? 'the host name does not resolve: check --endpoint-url (or AWS_ENDPOINT_URL) and the network'
      : code === 'ECONNREFUSED'
        ? 'nothing listens there: is the sandbox running (crosspipe sandbox status), or is --endpoint-url right?'
        : code.includes('CERT') || code.includes('TLS')
          ? "the endpoint's TLS certificate is not trusted: for the sandbox use --sandbox, which trusts its certificate"
          : 'check the endpoint and the network, then try again'
  return new CrosspipeError('unreachable', `cannot reach the AWS endpoint (${err.message}): ${hint}.`)
}
