import type { SimulationReport } from './simulate.js';
import { messageText } from './simulate.js';

/**
 * Formats a simulation report as readable text: the verdict, the failures, each step, and where
 * the run ended.
 *
 * Pure.
 *
 * @example
 * console.log(formatReport(simulate(flow, catalogue, scenario)));
 * // PASS  asks for the email
 * //   steps: ...
 */
export function formatReport(report: SimulationReport): string {
  const lines: string[] = [`${report.passed ? 'PASS' : 'FAIL'}  ${report.name}`];
  if (report.failures.length > 0) {
    lines.push('', '  Failures:');
    report.failures.forEach((failure, i) => lines.push(`    ${i + 1}. ${failure}`));
  }
  if (report.steps.length > 0) {
    lines.push('', '  Steps:');
    for (const s of report.steps) {
      lines.push(`    ${String(s.step).padStart(2)}  ${s.at}  ${s.action.padEnd(7)}  ${s.note}`);
      if (s.path.length > 0) lines.push(`                                           nodes: ${s.path.join(' > ')}`);
      for (const text of s.sent) lines.push(`                                           bot: ${JSON.stringify(text)}`);
    }
  }
  lines.push('', `  Path:    ${report.path.length > 0 ? report.path.join(' > ') : '(none)'}`);
  lines.push(`  Sent:    ${report.sent.length > 0 ? report.sent.map((m) => JSON.stringify(messageText(m))).join(', ') : '(nothing)'}`);
  const status = [report.status, report.outcome && report.outcome !== report.status ? `outcome ${report.outcome}` : undefined]
    .filter(Boolean)
    .join(', ');
  const waiting = report.waiting ? `, waiting for ${report.waiting.for} at "${report.waiting.nodeId}"` : '';
  const error = report.error ? `, ${report.error.code}: ${report.error.message}` : '';
  lines.push(`  Status:  ${status}${waiting}${error}`);
  if (Object.keys(report.vars).length > 0) lines.push(`  Vars:    ${JSON.stringify(report.vars)}`);
  return lines.join('\n');
}
