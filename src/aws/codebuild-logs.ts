/**
 * A CodeBuild build's log, through the SDK, behind an SDK-free interface: what `crosspipe run` and
 * `status` show under a failed build or test action.
 *
 * - BatchGetBuilds gives a build's `logs.groupName` and `logs.streamName` (and whether CloudWatch
 *   Logs are on, `logs.cloudWatchLogs.status`):
 *   https://docs.aws.amazon.com/codebuild/latest/APIReference/API_LogsLocation.html
 * - GetLogEvents without `startFromHead` (it defaults to false) returns the latest events, at most
 *   `limit` of them, oldest first:
 *   https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html
 */
import { GetLogEventsCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs'
import { BatchGetBuildsCommand, type CodeBuildClient } from '@aws-sdk/client-codebuild'

/** The end of one build's log. */
export interface BuildLogTail {
  readonly buildId: string
  readonly groupName: string
  readonly streamName: string
  /** The last lines of the log, oldest first, without line ends. */
  readonly lines: readonly string[]
}

/** What crosspipe reads of CodeBuild build logs, in one account and region. */
export interface CodeBuildLogsApi {
  /**
   * The last `lines` lines (default 20) of a build's CloudWatch Logs stream; `undefined` when the
   * build does not exist or writes no CloudWatch log.
   */
  tail(buildId: string, lines?: number): Promise<BuildLogTail | undefined>
}

/** The default number of lines of a log tail. */
export const LOG_TAIL_LINES = 20

/** Wraps a CodeBuild and a CloudWatch Logs client of the same account and region. */
export class SdkCodeBuildLogs implements CodeBuildLogsApi {
  constructor(
    private readonly codeBuild: CodeBuildClient,
    private readonly logs: CloudWatchLogsClient,
    private readonly guard: <T>(call: () => Promise<T>) => Promise<T>,
  ) {}

  async tail(buildId: string, lines = LOG_TAIL_LINES): Promise<BuildLogTail | undefined> {
    const r = await this.guard(() => this.codeBuild.send(new BatchGetBuildsCommand({ ids: [buildId] })))
    const build = r.builds?.[0]
    const groupName = build?.logs?.groupName
    const streamName = build?.logs?.streamName
    if (!groupName || !streamName || build?.logs?.cloudWatchLogs?.status === 'DISABLED') return undefined
    const events = await this.guard(() =>
      this.logs.send(
        new GetLogEventsCommand({
          logGroupName: groupName,
          logStreamName: streamName,
          limit: lines,
          startFromHead: false,
        }),
      ),
    )
    // An event may hold several lines (or end with a line end): the tail is counted in lines.
    const all = (events.events ?? []).flatMap((e) => (e.message ?? '').replace(/\r?\n$/, '').split(/\r?\n/))
    return { buildId, groupName, streamName, lines: all.slice(-lines) }
  }
}
