import { isoSeconds } from '../../core/duration.js';
import type { Job } from './job-manager.js';
import { webhookConfigToWire } from './webhook-config.js';

/**
 * The wire shapes of the emulator's jobs, as the real API and @google/genai read them. The
 * Interactions API speaks snake_case; batches and long-running operations are classic
 * google.longrunning.Operation JSON in lowerCamelCase (the SDK reads `metadata.state`,
 * `metadata.output.responsesFile`, `response.generateVideoResponse`).
 */

const TYPE_PREFIX = 'type.googleapis.com/google.ai.generativelanguage.v1beta';

// google.rpc.Code numbers for the error of a failed or cancelled operation.
const RPC_CODES: Readonly<Record<string, number>> = { CANCELLED: 1, INVALID_ARGUMENT: 3, INTERNAL: 13 };

const INTERACTION_STATUS = { running: 'in_progress', succeeded: 'completed', failed: 'failed', cancelled: 'cancelled' } as const;

const BATCH_STATE = {
  running: 'BATCH_STATE_RUNNING',
  succeeded: 'BATCH_STATE_SUCCEEDED',
  failed: 'BATCH_STATE_FAILED',
  cancelled: 'BATCH_STATE_CANCELLED',
} as const;

export const EMULATED_TEXT = 'This is an emulated response from the gemwh emulator.';

export function interactionResource(job: Job, options: { includeInput?: boolean } = {}): Record<string, unknown> {
  const echo = job.echo ?? {};
  return {
    id: job.name,
    ...(job.model ? { model: job.model } : {}),
    ...(job.agent ? { agent: job.agent } : {}),
    status: INTERACTION_STATUS[job.state],
    created: isoSeconds(job.createdAt),
    updated: isoSeconds(job.updatedAt),
    ...(options.includeInput && echo.input !== undefined ? { input: echo.input } : {}),
    ...(echo.previous_interaction_id !== undefined ? { previous_interaction_id: echo.previous_interaction_id } : {}),
    ...(echo.system_instruction !== undefined ? { system_instruction: echo.system_instruction } : {}),
    steps: job.state === 'succeeded' ? [{ type: 'model_output', content: [{ type: 'text', text: EMULATED_TEXT }] }] : [],
    ...(job.state === 'succeeded' ? { usage: { total_input_tokens: 8, total_output_tokens: 12, total_tokens: 20 } } : {}),
    ...(job.error ? { errors: [{ code: job.error.code, message: job.error.message }] } : {}),
    ...(job.webhookConfig ? { webhook_config: webhookConfigToWire(job.webhookConfig) } : {}),
  };
}

/** What batchGenerateContent and GET batches/{id} answer: an Operation whose metadata is the batch. */
export function batchOperation(job: Job, options: { justCreated?: boolean } = {}): Record<string, unknown> {
  const count = job.requestCount ?? 1;
  const done = job.state !== 'running';
  const stats =
    job.state === 'succeeded'
      ? { requestCount: String(count), successfulRequestCount: String(count) }
      : job.state === 'running'
        ? { requestCount: String(count), pendingRequestCount: String(count) }
        : { requestCount: String(count), failedRequestCount: String(count) };
  const metadata: Record<string, unknown> = {
    '@type': `${TYPE_PREFIX}.GenerateContentBatch`,
    name: job.name,
    ...(job.model ? { model: job.model } : {}),
    ...(job.displayName ? { displayName: job.displayName } : {}),
    createTime: rfc3339(job.createdAt),
    updateTime: rfc3339(job.updatedAt),
    ...(job.endedAt !== undefined && done ? { endTime: rfc3339(job.endedAt) } : {}),
    batchStats: stats,
    state: options.justCreated ? 'BATCH_STATE_PENDING' : BATCH_STATE[job.state],
    ...(job.output ? { output: { responsesFile: job.output.fileName } } : {}),
    ...(job.webhookConfig ? { webhookConfig: camelWebhookConfig(job) } : {}),
  };
  return {
    name: job.name,
    metadata,
    ...(done ? { done: true } : {}),
    ...(job.output ? { response: { '@type': `${TYPE_PREFIX}.GenerateContentBatchOutput`, responsesFile: job.output.fileName } } : {}),
    ...operationError(job),
  };
}

/** predictLongRunning answers only the name; GET adds done and the generated video. */
export function videoOperation(job: Job, options: { justCreated?: boolean } = {}): Record<string, unknown> {
  if (options.justCreated) return { name: job.name };
  return {
    name: job.name,
    ...(job.state !== 'running' ? { done: true } : {}),
    ...(job.output
      ? {
          response: {
            '@type': `${TYPE_PREFIX}.PredictLongRunningResponse`,
            generateVideoResponse: { generatedSamples: [{ video: { uri: job.output.uri } }] },
          },
        }
      : {}),
    ...operationError(job),
  };
}

function operationError(job: Job): Record<string, unknown> {
  if (job.state === 'cancelled') return { error: { code: RPC_CODES.CANCELLED, message: 'The operation was cancelled.' } };
  if (!job.error) return {};
  return { error: { code: RPC_CODES[job.error.code] ?? RPC_CODES.INTERNAL, message: job.error.message } };
}

function camelWebhookConfig(job: Job): Record<string, unknown> {
  const config = job.webhookConfig ?? {};
  return {
    ...(config.uris && config.uris.length > 0 ? { uris: [...config.uris] } : {}),
    ...(config.userMetadata ? { userMetadata: structuredClone(config.userMetadata) } : {}),
  };
}

/** Operation metadata times keep their fraction, as protobuf Timestamps do. */
function rfc3339(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
