/**
 * What a run shows while it works. Logs: structured JSON (pino) to the configured file and to stderr
 * (as text on a terminal), one line per run start, problem, step and run end; nothing from the configuration is logged, so no
 * secret can be. On a terminal, a progress bar per step with counts and rate; under cron (no
 * terminal) no bar, and the step lines are the summary.
 */
import { createWriteStream, openSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import pino, { type Logger } from 'pino';
import type { RunObserver } from '../engine/runner.js';
import { terminalLogStream } from './log-text.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export function createLogger(options: { file?: string; fileLevel: LogLevel; stderrLevel: LogLevel; stderrFormat?: 'json' | 'text' }): Logger {
  const streams: pino.StreamEntry[] = [];
  if (options.stderrLevel !== 'silent')
    streams.push({ level: options.stderrLevel, stream: options.stderrFormat === 'text' ? terminalLogStream(process.stderr) : process.stderr });
  if (options.file && options.fileLevel !== 'silent') {
    // Opened here, at once: a file that cannot be opened is the caller's error to name before the run
    // starts, not a stream error that ends the process half-way through it.
    const fd = openSync(options.file, 'a', 0o600);
    streams.push({ level: options.fileLevel, stream: createWriteStream('', { fd }) });
  }
  const levels: LogLevel[] = [options.stderrLevel, options.file ? options.fileLevel : 'silent'];
  const order: LogLevel[] = ['debug', 'info', 'warn', 'error'];
  const lowest = order.find((l) => levels.includes(l)) ?? 'silent';
  return pino(
    {
      level: lowest,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Belt and braces: nothing logs these, and if something ever did, they would not show.
      redact: {
        paths: ['password', 'secret', 'clientSecret', 'certificate', 'token', 'authorization', '*.password', '*.secret', '*.token', '*.authorization'],
        censor: '[redacted]',
      },
    },
    streams.length ? pino.multistream(streams) : undefined,
  );
}

export function logObserver(log: Logger): RunObserver {
  return {
    runStarted: ({ runId, profile, steps }) =>
      log.info({ event: 'run-started', runId, profile, steps: steps.map((s) => `${s.agent} ${s.type}`) }, `run ${runId} (${profile}) started`),
    stepStarted: ({ runId, seq, of, agent, type }) => log.debug({ event: 'step-started', runId, seq, agent, type }, `step ${seq}/${of}: ${agent} ${type}`),
    problem: (p) =>
      log[p.severity === 'error' ? 'error' : 'warn'](
        { event: 'problem', runId: p.runId, seq: p.seq, agent: p.agent, object: p.object, attribute: p.attribute, code: p.code },
        p.message,
      ),
    stepFinished: (s) =>
      log[s.status.startsWith('stopped') ? 'error' : 'info'](
        {
          event: 'step-finished',
          runId: s.runId,
          seq: s.seq,
          agent: s.agent,
          type: s.type,
          status: s.status,
          seconds: s.seconds,
          stats: s.stats,
          ...(s.message ? { reason: s.message } : {}),
        },
        `step ${s.seq} ${s.agent} ${s.type}: ${s.status}, ${s.stats.adds} adds, ${s.stats.updates} updates, ${s.stats.deletes} deletes, ${s.stats.errors} errors in ${s.seconds.toFixed(1)} s`,
      ),
    runFinished: (r) => log.info({ event: 'run-finished', runId: r.runId, profile: r.profile, status: r.status }, `run ${r.runId} (${r.profile}): ${r.status}`),
  };
}

/** A bar per step on stderr, only when stderr is a terminal. */
export function progressObserver(): RunObserver {
  let bar: SingleBar | undefined;
  let label = '';
  let started = 0;
  const stop = (): void => {
    bar?.stop();
    bar = undefined;
  };
  return {
    stepStarted: ({ seq, of, agent, type }) => {
      stop();
      label = `${seq}/${of} ${agent} ${type}`;
      started = Date.now();
    },
    progress: (done, total) => {
      if (!bar) {
        bar = new SingleBar(
          { format: `${label} [{bar}] {value}/{total} objects, {rate}/s`, stream: process.stderr, hideCursor: true, clearOnComplete: true, barsize: 30 },
          { barCompleteChar: '=', barIncompleteChar: ' ', format: '' },
        );
        bar.start(total ?? done, 0, { rate: 0 });
      }
      if (total !== undefined) bar.setTotal(total);
      else if (done > bar.getTotal()) bar.setTotal(done);
      bar.update(done, { rate: Math.round(done / Math.max((Date.now() - started) / 1000, 0.001)) });
    },
    stepFinished: stop,
    runFinished: stop,
  };
}

export function combine(...observers: RunObserver[]): RunObserver {
  const all =
    <K extends keyof RunObserver>(k: K) =>
    (...args: Parameters<NonNullable<RunObserver[K]>>) => {
      for (const o of observers) (o[k] as ((...a: unknown[]) => void) | undefined)?.(...args);
    };
  return {
    runStarted: all('runStarted'),
    stepStarted: all('stepStarted'),
    progress: all('progress'),
    problem: all('problem'),
    stepFinished: all('stepFinished'),
    runFinished: all('runFinished'),
  };
}
