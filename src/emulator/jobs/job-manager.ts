import type { Clock } from '../../deps.js';
import type { EmitRequest } from '../deliveries/types.js';
import { EmulatorHttpError } from '../google-error.js';
import { generateWebhookId, type RandomSource } from '../store.js';
import type { JobWebhookConfig } from './webhook-config.js';

export type JobKind = 'interaction' | 'batch' | 'video';
export type JobState = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobError {
  /** A google.rpc status name, e.g. INTERNAL. */
  code: string;
  message: string;
}

export interface Job {
  kind: JobKind;
  /**
   * The id in the real API's own form, also `data.id` of the job's events: `v1_…` for an
   * interaction, `batches/…` for a batch, `models/{model}/operations/…` for a video.
   */
  name: string;
  /** `models/…` (batches, videos) or the bare model id an interaction names. */
  model?: string;
  agent?: string;
  displayName?: string;
  webhookConfig?: JobWebhookConfig;
  /** Batches: how many requests came in (inlined) — 1 for an input file. */
  requestCount?: number;
  /** What the create request carried that the resource echoes (interactions: input etc.). */
  echo?: Record<string, unknown>;
  state: JobState;
  /** Epoch ms. */
  createdAt: number;
  updatedAt: number;
  endedAt?: number;
  error?: JobError;
  /** Batches and videos: the file holding the result, once succeeded. */
  output?: { fileName: string; uri: string };
  /** Types of the events emitted for this job, in order. */
  emitted: string[];
}

/** What a create request sets on a job; the rest the manager fills in. */
export interface JobInit extends Pick<Job, 'model' | 'agent' | 'displayName' | 'webhookConfig' | 'requestCount' | 'echo'> {
  /**
   * Where the client reached the emulator, with the API version (`http://127.0.0.1:8790/v1beta`):
   * video download URIs point back at it rather than at Google.
   */
  apiBase: string;
  /**
   * A foreground interaction (no background: true) answers already completed and sends no webhook:
   * only long-running jobs announce their end.
   */
  foreground?: boolean;
}

export interface JobManagerOptions {
  clock: Clock;
  random: RandomSource;
  /** Emulated time from create to the end of a job. */
  delayMs: number;
  /** 0..1: the share of interactions and batches that end failed. */
  failRate: number;
  /** Emulated time runs this many times faster than real time (the delivery engine's --time-scale). */
  timeScale?: number;
  /** The delivery engine's emit(). */
  emit(request: EmitRequest): unknown;
  /** A job ended but its event could not be sent (e.g. the engine refused it). */
  onEmitError?(job: Job, error: unknown): void;
}

export const DEFAULT_JOB_DELAY_MS = 2000;

const FAILURES: Readonly<Record<'interaction' | 'batch', JobError>> = {
  interaction: { code: 'INTERNAL', message: 'The emulated interaction failed (gemwh emulator --fail-rate).' },
  batch: { code: 'INVALID_ARGUMENT', message: 'The emulated batch failed (gemwh emulator --fail-rate).' },
};

/**
 * Long-running jobs of the emulator (interactions with background: true, batches, video
 * generation). Each ends by itself after the job delay and announces the end through the delivery
 * engine, as Gemini does: to the job's webhook_config.uris when given, else to the registered
 * webhooks. Records handed out are copies, so a route cannot change a job by accident.
 */
export class JobManager {
  private readonly jobs = new Map<string, Job & { apiBase: string }>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly waiters = new Set<() => void>();
  private stopped = false;

  constructor(private readonly options: JobManagerOptions) {
    if (!(options.failRate >= 0 && options.failRate <= 1)) throw new RangeError(`failRate must be within 0..1, got ${options.failRate}`);
    if (!(options.delayMs >= 0)) throw new RangeError(`delayMs must not be negative, got ${options.delayMs}`);
  }

  create(kind: JobKind, init: JobInit): Job {
    if (this.stopped) throw new EmulatorHttpError('UNAVAILABLE', 'The emulator is stopping.');
    const now = this.options.clock.now();
    let name = this.newName(kind, init.model);
    while (this.jobs.has(name)) name = this.newName(kind, init.model);
    const realDelay = this.options.delayMs / (this.options.timeScale ?? 1);
    const { apiBase, foreground, ...fields } = init;
    const job: Job & { apiBase: string } = {
      kind,
      name,
      ...stripUndefined(fields),
      state: 'running',
      createdAt: now,
      updatedAt: now,
      emitted: [],
      apiBase,
    };
    this.jobs.set(name, job);
    if (foreground) {
      job.state = 'succeeded';
      job.endedAt = now;
      return publicCopy(job);
    }
    const timer = setTimeout(() => this.finish(name), realDelay);
    // The emulator's server keeps the process alive; a pending job alone must not.
    timer.unref();
    this.timers.set(name, timer);
    return publicCopy(job);
  }

  /** Throws NOT_FOUND, in the API's words, for an unknown name or one of another kind. */
  get(kind: JobKind, name: string): Job {
    return publicCopy(this.existing(kind, name));
  }

  /** Every job, oldest first. */
  list(kind?: JobKind): Job[] {
    return [...this.jobs.values()].filter((job) => kind === undefined || job.kind === kind).map(publicCopy);
  }

  /**
   * Ends a running job as cancelled and emits `interaction.cancelled` / `batch.cancelled` (named by
   * the guide though not in the API enum, spec §4.2). A job that already ended stays as it was.
   */
  cancel(kind: 'interaction' | 'batch', name: string): Job {
    const job = this.existing(kind, name);
    if (job.state !== 'running') return publicCopy(job);
    this.clearTimer(name);
    this.end(job, 'cancelled');
    return publicCopy(job);
  }

  /** Resolves once no job is running (tests; `listen --emulator` before it stops). */
  idle(): Promise<void> {
    if (![...this.jobs.values()].some((job) => job.state === 'running')) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if ([...this.jobs.values()].some((job) => job.state === 'running') && !this.stopped) return;
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }

  /** Cancels every pending end without emitting anything; idempotent. */
  stop(): void {
    this.stopped = true;
    for (const name of [...this.timers.keys()]) this.clearTimer(name);
    this.wake();
  }

  private existing(kind: JobKind, name: string): Job & { apiBase: string } {
    const job = this.jobs.get(name);
    if (!job || job.kind !== kind) throw new EmulatorHttpError('NOT_FOUND', notFoundMessage(kind, name));
    return job;
  }

  private finish(name: string): void {
    this.timers.delete(name);
    const job = this.jobs.get(name);
    if (!job || job.state !== 'running' || this.stopped) return;
    const fails = job.kind !== 'video' && this.draw() < this.options.failRate;
    this.end(job, fails ? 'failed' : 'succeeded');
  }

  private end(job: Job & { apiBase: string }, state: Exclude<JobState, 'running'>): void {
    const now = this.options.clock.now();
    job.state = state;
    job.updatedAt = now;
    job.endedAt = now;
    // The engine merges data over the event's fixture, whose illustrative user_metadata must not
    // reach a job that set none: an undefined value masks it (JSON drops it); the engine puts the
    // job's own metadata back.
    const data: Record<string, unknown> = { id: job.name, user_metadata: undefined };
    if (state === 'failed' && job.kind !== 'video') {
      job.error = { ...FAILURES[job.kind] };
      data.error_code = job.error.code;
      data.error_message = job.error.message;
    }
    if (state === 'succeeded' && job.kind === 'batch') {
      const fileName = `files/batch-${shortId(job.name)}`;
      job.output = { fileName, uri: fileName };
      data.output_file_uri = fileName;
    }
    if (state === 'succeeded' && job.kind === 'video') {
      const fileName = `files/${generateWebhookId(this.options.random).slice(0, 12)}`;
      job.output = { fileName, uri: `${job.apiBase}/${fileName}:download?alt=media` };
      data.output_file_uri = job.output.uri;
      data.file_name = fileName;
    }
    const type = eventType(job.kind, state);
    job.emitted.push(type);
    try {
      this.options.emit(emitRequest(type, data, job.webhookConfig));
    } catch (error) {
      this.options.onEmitError?.(publicCopy(job), error);
    }
    this.wake();
  }

  private newName(kind: JobKind, model: string | undefined): string {
    const random = this.options.random;
    switch (kind) {
      // Real interaction ids are `v1_` + base64url of a small protobuf (spec §4.3); random bytes
      // give the same look without pretending to encode anything.
      case 'interaction':
        return `v1_${random.bytes(27).toString('base64url')}`;
      case 'batch':
        return `batches/${generateWebhookId(random)}`;
      case 'video':
        return `${model ?? 'models/veo'}/operations/${generateWebhookId(random).slice(0, 12)}`;
    }
  }

  /** A uniform draw in [0, 1) from the emulator's random source, so tests can pin it. */
  private draw(): number {
    return this.options.random.bytes(4).readUInt32BE(0) / 2 ** 32;
  }

  private clearTimer(name: string): void {
    const timer = this.timers.get(name);
    if (timer) clearTimeout(timer);
    this.timers.delete(name);
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

function eventType(kind: JobKind, state: Exclude<JobState, 'running'>): string {
  if (kind === 'video') return 'video.generated';
  const outcome = state === 'succeeded' ? (kind === 'interaction' ? 'completed' : 'succeeded') : state;
  return `${kind}.${outcome}`;
}

/** Dynamic when the job named uris; otherwise the registered webhooks, with any metadata attached. */
export function emitRequest(type: string, data: Record<string, unknown>, config: JobWebhookConfig | undefined): EmitRequest {
  if (config?.uris && config.uris.length > 0) {
    return { type, data, dynamic: { uris: [...config.uris], ...(config.userMetadata ? { userMetadata: config.userMetadata } : {}) } };
  }
  return { type, data, ...(config?.userMetadata ? { userMetadata: config.userMetadata } : {}) };
}

function notFoundMessage(kind: JobKind, name: string): string {
  switch (kind) {
    case 'interaction':
      return `Interaction "${name}" was not found.`;
    case 'batch':
      return `Batch "${name}" was not found.`;
    case 'video':
      return `Operation "${name}" was not found.`;
  }
}

/** The last path segment: `batches/abc` → `abc`. */
export function shortId(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

function publicCopy(job: Job & { apiBase?: string }): Job {
  const { apiBase: _apiBase, ...rest } = job;
  return structuredClone(rest);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
