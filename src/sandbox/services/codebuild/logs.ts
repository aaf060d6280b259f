/**
 * CloudWatch Logs for CodeBuild's build logs (awsJson 1.1, `Logs_20140328`): GetLogEvents,
 * DescribeLogStreams and FilterLogEvents (what `aws logs tail` calls) over the log group
 * `/aws/codebuild/<project>` and the stream `<build uuid>` that BatchGetBuilds names, so the same
 * client code reads a build's log on AWS and in the sandbox (`aws logs get-log-events`,
 * `crosspipe status`); DescribeLogGroups lists those groups and the ones made with CreateLogGroup.
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogStreams.html
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogGroups.html
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html
 * Other CloudWatch Logs operations are not served: they answer UnknownOperationException.
 *
 * Declared as operations of the CloudWatch Logs model (src/sandbox/operations): names, patterns,
 * `limit` ranges and JSON types are the model's, answered as CloudWatch Logs answers a bad parameter,
 * `InvalidParameterException` (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/CommonErrors.html);
 * the handlers keep the rules across members (group name or identifier, mutually exclusive filters).
 */
import type * as Logs from '@aws-sdk/client-cloudwatch-logs'
import { formatArn } from '../../../iam/arn.js'
import { authorize } from '../../auth/authorize.js'
import { AwsError } from '../../errors.js'
import type { Runtime } from '../../runtime.js'
import { jsonService, operation } from '../../operations/index.js'
import type { JsonService, RequestContext } from '../types.js'
import { cloudWatchLogsEnabled } from './logs-config.js'
import { ItemTable } from '../../store/db.js'
import { CodeBuildStore, scopeOf, type BuildRecord } from './store.js'

const GROUP_PREFIX = '/aws/codebuild/'
const STAMP = /^\[Container\] (\d{4})\/(\d{2})\/(\d{2}) (\d{2}:\d{2}:\d{2}\.\d{3})/

/** One log event. */
interface LogEvent {
  readonly timestamp: number
  readonly message: string
  readonly ingestionTime: number
}

function notFound(message: string): AwsError {
  return new AwsError('ResourceNotFoundException', message, 400)
}

function invalidParameter(message: string): AwsError {
  return new AwsError('InvalidParameterException', message, 400)
}

/** A build log's lines as events, each stamped with the agent's time of the latest stamped line. */
export function logEvents(text: string, start: number): LogEvent[] {
  let t = start
  const out: LogEvent[] = []
  for (const line of text.split('\n')) {
    if (line === '') continue
    const m = STAMP.exec(line)
    if (m) t = Date.parse(`${m[1]!}-${m[2]!}-${m[3]!}T${m[4]!}Z`)
    out.push({ timestamp: t, message: `${line}\n`, ingestionTime: t })
  }
  return out
}

/** A log group made with CreateLogGroup (build log groups exist through their builds). */
interface GroupRecord {
  readonly name: string
  readonly created: number
}

/**
 * A CloudWatch Logs filter pattern for unstructured events, as documented in "Filter pattern
 * syntax for metric filters, subscription filters, and filter log events"
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html): terms
 * (all must occur, case-sensitive), `"quoted phrases"`, `?term` (any of the `?` terms), `-term`
 * (must not occur). JSON (`{ … }`), space-delimited (`[ … ]`) and regular-expression (`%…%`)
 * patterns are refused as not supported by the sandbox, never matched wrongly.
 */
export function filterMatcher(pattern: string): (message: string) => boolean {
  const p = pattern.trim()
  if (p === '') return () => true
  if (/^[{[%]/.test(p))
    throw new AwsError(
      'InvalidParameterException',
      `The crosspipe sandbox supports term filter patterns only (terms, "phrases", ?any, -exclude), not ${p[0] === '{' ? 'JSON' : p[0] === '[' ? 'space-delimited' : 'regular expression'} patterns.`,
      400,
    )
  const all: string[] = []
  const any: string[] = []
  const none: string[] = []
  for (const m of p.matchAll(/([?-]?)(?:"((?:[^"\\]|\\.)*)"|(\S+))/g)) {
    const term = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!
    ;(m[1] === '?' ? any : m[1] === '-' ? none : all).push(term)
  }
  return (message) =>
    all.every((t) => message.includes(t)) &&
    (any.length === 0 || any.some((t) => message.includes(t))) &&
    !none.some((t) => message.includes(t))
}

/** The CloudWatch Logs service (build logs only). */
export function logsService(runtime: Runtime): JsonService {
  const store = new CodeBuildStore(runtime)
  const groups = new ItemTable<GroupRecord>(runtime.db, 'logs.group')

  /** `arn:…:log-group:<group>` (DescribeLogGroups' logGroupArn; `*` for every group). */
  const logGroupArn = (ctx: RequestContext, group: string): string =>
    formatArn({
      partition: ctx.partition,
      service: 'logs',
      region: ctx.region,
      account: ctx.identity.account,
      resource: `log-group:${group}`,
    })
  /** The group with its streams (`…:*`), or one stream: what the operations on a group authorize. */
  const groupArn = (ctx: RequestContext, group: string, stream?: string): string =>
    `${logGroupArn(ctx, group)}${stream !== undefined ? `:log-stream:${stream}` : ':*'}`

  /** The group an operation names: by name or by identifier (name or ARN), one of them required. */
  const groupOf = (input: {
    readonly logGroupName?: string
    readonly logGroupIdentifier?: string
  }): string => {
    const g = input.logGroupName ?? input.logGroupIdentifier?.replace(/^arn:.*:log-group:/, '')
    if (!g) throw invalidParameter('Either logGroupName or logGroupIdentifier must be specified.')
    return g
  }

  /** The builds of a log group that wrote to CloudWatch Logs. */
  const buildsOf = (ctx: RequestContext, group: string): BuildRecord[] => {
    if (!group.startsWith(GROUP_PREFIX)) return []
    const project = group.slice(GROUP_PREFIX.length)
    return store.builds
      .list(scopeOf(ctx.identity.account, ctx.region), `${project}:`)
      .map((r) => r.value)
      .filter((b) => b.projectName === project && cloudWatchLogsEnabled(b.logsConfig))
  }

  /**
   * Whether a log group exists: made with CreateLogGroup, or the group of a build that logged to
   * CloudWatch Logs. A group without streams exists all the same: DescribeLogStreams lists none
   * and GetLogEvents finds no stream in it, where a group that does not exist is
   * ResourceNotFoundException "The specified log group does not exist." for both.
   */
  const groupExists = (ctx: RequestContext, group: string): boolean =>
    groups.get(scopeOf(ctx.identity.account, ctx.region), group) !== undefined ||
    buildsOf(ctx, group).length > 0

  /** Every log group of the caller's account and region: created ones and build log groups. */
  const allGroups = (ctx: RequestContext): GroupRecord[] => {
    const scope = scopeOf(ctx.identity.account, ctx.region)
    const out = new Map<string, GroupRecord>()
    for (const g of groups.list(scope)) out.set(g.value.name, g.value)
    for (const b of store.builds.list(scope).map((r) => r.value))
      if (cloudWatchLogsEnabled(b.logsConfig)) {
        const name = `${GROUP_PREFIX}${b.projectName}`
        const created = Date.parse(b.startTime)
        const had = out.get(name)
        if (!had || created < had.created) out.set(name, { name, created })
      }
    return [...out.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  return jsonService({
    name: 'logs',
    signingName: 'logs',
    jsonVersion: '1.1',
    targetPrefix: 'Logs_20140328',
    validationCode: 'InvalidParameterException',
    operations: [
      operation<Logs.CreateLogGroupRequest, object>(
        'CreateLogGroup',
        (input, ctx) => {
          const name = input.logGroupName
          authorize(ctx, { action: 'logs:CreateLogGroup', resource: groupArn(ctx, name) }, 'json')
          if (allGroups(ctx).some((g) => g.name === name))
            throw new AwsError(
              'ResourceAlreadyExistsException',
              'The specified log group already exists',
              400,
            )
          groups.put(scopeOf(ctx.identity.account, ctx.region), name, { name, created: Date.now() })
          return {}
        },
        {
          honours: ['logGroupName'],
          accepts: {
            logGroupClass: {
              why: 'STANDARD is the default and the only class the sandbox keeps',
              when: 'STANDARD',
            },
            deletionProtectionEnabled: { why: 'false is the default', when: false },
          },
          refuses: {
            kmsKeyId: 'log groups are not encrypted with KMS keys here',
            tags: 'log group tags are not modelled',
          },
        },
      ),

      operation<Logs.DescribeLogGroupsRequest, Logs.DescribeLogGroupsResponse>(
        'DescribeLogGroups',
        (input, ctx) => {
          authorize(ctx, { action: 'logs:DescribeLogGroups', resource: logGroupArn(ctx, '*') }, 'json')
          const prefix = input.logGroupNamePrefix
          const pattern = input.logGroupNamePattern
          if (prefix !== undefined && pattern !== undefined)
            throw invalidParameter(
              'LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.',
            )
          const limit = input.limit ?? 50
          // Every group here is of the STANDARD class, the one logGroupClass may select.
          const classOk = (input.logGroupClass ?? 'STANDARD') === 'STANDARD'
          const found = allGroups(ctx).filter((g) =>
            !classOk
              ? false
              : prefix !== undefined
                ? g.name.startsWith(prefix)
                : pattern !== undefined
                  ? g.name.toLowerCase().includes(pattern.toLowerCase())
                  : true,
          )
          const start = Number(input.nextToken ?? '0') || 0
          return {
            logGroups: found.slice(start, start + limit).map((g) => ({
              logGroupName: g.name,
              creationTime: g.created,
              metricFilterCount: 0,
              arn: groupArn(ctx, g.name),
              logGroupArn: logGroupArn(ctx, g.name),
              storedBytes: 0,
              logGroupClass: 'STANDARD',
            })),
            nextToken: start + limit < found.length ? String(start + limit) : undefined,
          }
        },
        {
          honours: ['logGroupNamePrefix', 'logGroupNamePattern', 'nextToken', 'limit', 'logGroupClass'],
          accepts: { includeLinkedAccounts: { why: 'false is the default: this account only', when: false } },
          refuses: {
            accountIdentifiers: 'cross-account observability is not modelled',
            includeLinkedAccounts: 'cross-account observability is not modelled',
          },
        },
      ),

      operation<Logs.FilterLogEventsRequest, Logs.FilterLogEventsResponse>(
        'FilterLogEvents',
        (input, ctx) => {
          const group = groupOf(input)
          authorize(ctx, { action: 'logs:FilterLogEvents', resource: groupArn(ctx, group) }, 'json')
          if (!groupExists(ctx, group)) throw notFound('The specified log group does not exist.')
          const names = input.logStreamNames
          const prefix = input.logStreamNamePrefix
          if (names !== undefined && prefix !== undefined)
            throw invalidParameter(
              'logStreamNames and logStreamNamePrefix are mutually exclusive parameters.',
            )
          const match = filterMatcher(input.filterPattern ?? '')
          const { startTime, endTime } = input
          const limit = input.limit ?? 10_000
          const events: {
            logStreamName: string
            timestamp: number
            message: string
            ingestionTime: number
            eventId: string
          }[] = []
          for (const b of buildsOf(ctx, group)) {
            const stream = b.id.split(':').pop() ?? ''
            if (names && !names.includes(stream)) continue
            if (prefix !== undefined && !stream.startsWith(prefix)) continue
            logEvents(store.readLog(b.id), Date.parse(b.startTime)).forEach((e, i) => {
              if (startTime !== undefined && e.timestamp < startTime) return
              if (endTime !== undefined && e.timestamp > endTime) return
              if (!match(e.message)) return
              events.push({ logStreamName: stream, ...e, eventId: `${stream}/${i}` })
            })
          }
          // Events in time order across streams, as FilterLogEvents returns them.
          events.sort((a, b) => a.timestamp - b.timestamp || (a.eventId < b.eventId ? -1 : 1))
          const start = Number(input.nextToken ?? '0') || 0
          return {
            events: events.slice(start, start + limit),
            searchedLogStreams: [],
            nextToken: start + limit < events.length ? String(start + limit) : undefined,
          }
        },
        {
          honours: [
            'logGroupName',
            'logGroupIdentifier',
            'logStreamNames',
            'logStreamNamePrefix',
            'startTime',
            'endTime',
            'filterPattern',
            'nextToken',
            'limit',
          ],
          accepts: {
            interleaved:
              'deprecated: AWS ignores it and always interleaves events of several streams (API_FilterLogEvents.html)',
            unmask: {
              why: 'false is the default: the sandbox masks nothing (it has no data protection policies)',
              when: false,
            },
          },
        },
      ),

      operation<Logs.GetLogEventsRequest, Logs.GetLogEventsResponse>(
        'GetLogEvents',
        (input, ctx) => {
          const group = groupOf(input)
          const stream = input.logStreamName
          authorize(ctx, { action: 'logs:GetLogEvents', resource: groupArn(ctx, group, stream) }, 'json')
          if (!groupExists(ctx, group)) throw notFound('The specified log group does not exist.')
          const b = buildsOf(ctx, group).find((x) => x.id.endsWith(`:${stream}`))
          if (!b) throw notFound('The specified log stream does not exist.')
          let events = logEvents(store.readLog(b.id), Date.parse(b.startTime))
          const { startTime, endTime } = input
          if (startTime !== undefined) events = events.filter((e) => e.timestamp >= startTime)
          if (endTime !== undefined) events = events.filter((e) => e.timestamp < endTime)
          const limit = input.limit ?? 10_000
          const token = input.nextToken
          let from: number
          let to: number
          if (token !== undefined) {
            const m = /^([fb])\/(\d+)$/.exec(token)
            if (!m) throw invalidParameter('The specified nextToken is invalid.')
            const i = Math.min(Number(m[2]), events.length)
            ;[from, to] = m[1] === 'f' ? [i, Math.min(events.length, i + limit)] : [Math.max(0, i - limit), i]
          } else if (input.startFromHead === true) [from, to] = [0, Math.min(events.length, limit)]
          else [from, to] = [Math.max(0, events.length - limit), events.length]
          return {
            events: events.slice(from, to),
            nextForwardToken: `f/${to}`,
            nextBackwardToken: `b/${from}`,
          }
        },
        {
          honours: [
            'logGroupName',
            'logGroupIdentifier',
            'logStreamName',
            'startTime',
            'endTime',
            'nextToken',
            'limit',
            'startFromHead',
          ],
          accepts: {
            unmask: {
              why: 'false is the default: the sandbox masks nothing (it has no data protection policies)',
              when: false,
            },
          },
        },
      ),

      operation<Logs.DescribeLogStreamsRequest, Logs.DescribeLogStreamsResponse>(
        'DescribeLogStreams',
        (input, ctx) => {
          const group = groupOf(input)
          authorize(ctx, { action: 'logs:DescribeLogStreams', resource: groupArn(ctx, group) }, 'json')
          if (!groupExists(ctx, group)) throw notFound('The specified log group does not exist.')
          const builds = buildsOf(ctx, group)
          const prefix = input.logStreamNamePrefix ?? ''
          const streams = builds
            .map((b) => {
              const name = b.id.split(':').pop() ?? ''
              const events = logEvents(store.readLog(b.id), Date.parse(b.startTime))
              return {
                logStreamName: name,
                creationTime: Date.parse(b.startTime),
                firstEventTimestamp: events[0]?.timestamp,
                lastEventTimestamp: events[events.length - 1]?.timestamp,
                lastIngestionTime: events[events.length - 1]?.ingestionTime,
                arn: groupArn(ctx, group, name),
                storedBytes: 0,
              }
            })
            .filter((s) => s.logStreamName.startsWith(prefix))
          const byTime = input.orderBy === 'LastEventTime'
          streams.sort((a, b) =>
            byTime
              ? (a.lastEventTimestamp ?? 0) - (b.lastEventTimestamp ?? 0)
              : a.logStreamName.localeCompare(b.logStreamName),
          )
          if (input.descending === true) streams.reverse()
          const limit = input.limit ?? 50
          const start = Number(input.nextToken ?? '0') || 0
          return {
            logStreams: streams.slice(start, start + limit),
            nextToken: start + limit < streams.length ? String(start + limit) : undefined,
          }
        },
        {
          honours: [
            'logGroupName',
            'logGroupIdentifier',
            'logStreamNamePrefix',
            'orderBy',
            'descending',
            'nextToken',
            'limit',
          ],
        },
      ),
    ],
  })
}
