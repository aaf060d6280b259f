/**
 * The read side of CloudWatch Logs for CodeBuild's build logs (awsJson 1.1, `Logs_20140328`):
 * GetLogEvents and DescribeLogStreams over the log group `/aws/codebuild/<project>` and the
 * stream `<build uuid>` that BatchGetBuilds names, so the same client code reads a build's log
 * on AWS and in the sandbox (`aws logs get-log-events`, `crosspipe status`).
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogStreams.html
 * Other CloudWatch Logs operations are not served: they answer UnknownOperationException.
 */
import { formatArn } from '../../../iam/arn.js'
import { authorize } from '../../auth/authorize.js'
import { AwsError } from '../../gateway/errors.js'
import type { Runtime } from '../../runtime.js'
import type { JsonService, RequestContext } from '../types.js'
import { cloudWatchLogsEnabled } from './logs-config.js'
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

/** The CloudWatch Logs service (build logs only). */
export function logsService(runtime: Runtime): JsonService {
  const store = new CodeBuildStore(runtime)

  const groupArn = (ctx: RequestContext, group: string, stream?: string): string =>
    formatArn({
      partition: ctx.partition,
      service: 'logs',
      region: ctx.region,
      account: ctx.identity.account,
      resource: `log-group:${group}${stream !== undefined ? `:log-stream:${stream}` : ':*'}`,
    })

  const text = (input: Readonly<Record<string, unknown>>, name: string): string | undefined => {
    const v = input[name]
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'string')
      throw new AwsError('SerializationException', `Expected a string for ${name}`, 400)
    return v
  }

  const groupOf = (input: Readonly<Record<string, unknown>>): string => {
    const g =
      text(input, 'logGroupName') ?? text(input, 'logGroupIdentifier')?.replace(/^arn:.*:log-group:/, '')
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

  return {
    name: 'logs',
    signingName: 'logs',
    protocol: 'json',
    jsonVersion: '1.1',
    targetPrefix: 'Logs_20140328',
    actions: {
      GetLogEvents: (input, ctx) => {
        const group = groupOf(input)
        const stream = text(input, 'logStreamName')
        if (!stream) throw invalidParameter('logStreamName is required.')
        authorize(ctx, { action: 'logs:GetLogEvents', resource: groupArn(ctx, group, stream) }, 'json')
        const builds = buildsOf(ctx, group)
        if (!builds.length) throw notFound('The specified log group does not exist.')
        const b = builds.find((x) => x.id.endsWith(`:${stream}`))
        if (!b) throw notFound('The specified log stream does not exist.')
        let events = logEvents(store.readLog(b.id), Date.parse(b.startTime))
        const startTime = input['startTime']
        const endTime = input['endTime']
        if (typeof startTime === 'number') events = events.filter((e) => e.timestamp >= startTime)
        if (typeof endTime === 'number') events = events.filter((e) => e.timestamp < endTime)
        const limit =
          typeof input['limit'] === 'number' && input['limit'] > 0 ? Math.min(input['limit'], 10_000) : 10_000
        const token = text(input, 'nextToken')
        let from: number
        let to: number
        if (token !== undefined) {
          const m = /^([fb])\/(\d+)$/.exec(token)
          if (!m) throw invalidParameter('The specified nextToken is invalid.')
          const i = Math.min(Number(m[2]), events.length)
          ;[from, to] = m[1] === 'f' ? [i, Math.min(events.length, i + limit)] : [Math.max(0, i - limit), i]
        } else if (input['startFromHead'] === true) [from, to] = [0, Math.min(events.length, limit)]
        else [from, to] = [Math.max(0, events.length - limit), events.length]
        return {
          events: events.slice(from, to),
          nextForwardToken: `f/${to}`,
          nextBackwardToken: `b/${from}`,
        }
      },

      DescribeLogStreams: (input, ctx) => {
        const group = groupOf(input)
        authorize(ctx, { action: 'logs:DescribeLogStreams', resource: groupArn(ctx, group) }, 'json')
        const builds = buildsOf(ctx, group)
        if (!builds.length) throw notFound('The specified log group does not exist.')
        const prefix = text(input, 'logStreamNamePrefix') ?? ''
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
        const byTime = input['orderBy'] === 'LastEventTime'
        streams.sort((a, b) =>
          byTime
            ? (a.lastEventTimestamp ?? 0) - (b.lastEventTimestamp ?? 0)
            : a.logStreamName.localeCompare(b.logStreamName),
        )
        if (input['descending'] === true) streams.reverse()
        const limit =
          typeof input['limit'] === 'number' && input['limit'] > 0 ? Math.min(input['limit'], 50) : 50
        const start = Number(text(input, 'nextToken') ?? '0') || 0
        return {
          logStreams: streams.slice(start, start + limit),
          nextToken: start + limit < streams.length ? String(start + limit) : undefined,
        }
      },
    },
  }
}
