/**
 * SARIF 2.1.0 output of `crosspipe check --sarif`, for code-scanning tools (GitHub code scanning
 * and others): one rule per rule id, one result per finding, located in its template.
 * https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
 */
import { RULE_DESCRIPTIONS } from './rule-docs.js'
import type { CheckResult } from './types.js'

/** Converts a check result to a SARIF log object (serialize it with JSON.stringify). */
export function toSarif(
  result: CheckResult,
  opts: { readonly version?: string } = {},
): Record<string, unknown> {
  const ids = [...new Set(result.findings.map((f) => f.rule))].sort()
  const index = new Map(ids.map((id, i) => [id, i]))
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'crosspipe check',
            ...(opts.version ? { version: opts.version } : {}),
            rules: ids.map((id) => ({
              id,
              shortDescription: { text: RULE_DESCRIPTIONS[id] },
              help: { text: `See the rule ${id} in crosspipe's src/check/RULES.md (README, "check rules").` },
            })),
          },
        },
        results: result.findings.map((f) => ({
          ruleId: f.rule,
          ruleIndex: index.get(f.rule),
          level: f.severity === 'error' ? 'error' : 'warning',
          message: { text: f.fix ? `${f.message}\nFix:\n${f.fix}` : f.message },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: f.location?.file ?? f.stack },
                ...(f.location?.line
                  ? { region: { startLine: f.location.line, startColumn: f.location.column ?? 1 } }
                  : {}),
              },
              logicalLocations: [
                { name: f.logicalId, fullyQualifiedName: `${f.stack}/${f.logicalId}`, kind: 'resource' },
              ],
            },
          ],
        })),
      },
    ],
  }
}
