/** A project's logsConfig (https://docs.aws.amazon.com/codebuild/latest/APIReference/API_LogsConfig.html). */

/** Whether CloudWatch Logs are on for a build: the default, unless `cloudWatchLogs.status` is DISABLED. */
export function cloudWatchLogsEnabled(logsConfig: Readonly<Record<string, unknown>> | undefined): boolean {
  const cw = logsConfig?.['cloudWatchLogs'] as { status?: unknown } | undefined
  return cw?.status !== 'DISABLED'
}
