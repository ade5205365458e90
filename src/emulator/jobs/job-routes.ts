import { invalidArgument } from '../google-error.js';
import type { EmulatorRequest, Router } from '../router.js';
import { shortId, type JobManager } from './job-manager.js';
import { batchOperation, interactionResource, videoOperation } from './resources.js';
import { parseWebhookConfig, type JobWebhookConfig } from './webhook-config.js';

/**
 * The job endpoints an app reaches when it points @google/genai at the emulator
 * (`httpOptions.baseUrl`): background interactions, batches and video generation. They accept a
 * per-request webhook_config where the real API does (spec §3) and end by themselves.
 */
export function addJobRoutes(router: Router, jobs: JobManager, apiVersions: readonly string[]): void {
  for (const version of apiVersions) {
    const base = `/${version}`;

    router.add('POST', `${base}/interactions`, (req) => {
      const body = readBody(req.json(), 'The interaction');
      const model = optionalString(body.model, 'model');
      const agent = optionalString(body.agent, 'agent');
      if (!model && !agent) throw invalidArgument('Either model or agent is required.');
      if (body.stream === true) throw invalidArgument('The gemwh emulator does not stream interactions; leave stream unset (or false).');
      if (body.background !== undefined && typeof body.background !== 'boolean') throw invalidArgument('background must be a boolean.');
      const webhookConfig = parseWebhookConfig(body.webhook_config ?? body.webhookConfig, 'webhook_config');
      const background = body.background === true;
      if (webhookConfig && !background) {
        throw invalidArgument('webhook_config requires background: true: only background interactions send webhooks.');
      }
      const echo = pick(body, ['input', 'previous_interaction_id', 'system_instruction']);
      const job = jobs.create('interaction', { model, agent, webhookConfig, echo, apiBase: apiBase(req, version), foreground: !background });
      return { status: 200, body: interactionResource(job) };
    });
    router.add('GET', `${base}/interactions/{id}`, (req) => {
      const includeInput = req.query.get('include_input') === 'true';
      return { status: 200, body: interactionResource(jobs.get('interaction', req.params.id ?? ''), { includeInput }) };
    });
    router.add('POST', `${base}/interactions/{id}/cancel`, (req) => ({
      status: 200,
      body: interactionResource(jobs.cancel('interaction', req.params.id ?? '')),
    }));

    router.add('POST', `${base}/models/{model}:batchGenerateContent`, (req) => {
      const body = readBody(req.json(), 'The request');
      const batch = readBody(body.batch, 'batch');
      const input = readBody(batch.inputConfig ?? batch.input_config, 'batch.input_config');
      const requests = readBody(input.requests ?? {}, 'batch.input_config.requests').requests;
      const fileName = input.fileName ?? input.file_name;
      if (!Array.isArray(requests) && typeof fileName !== 'string') {
        throw invalidArgument('batch.input_config needs requests.requests (inlined requests) or file_name (an uploaded JSONL file).');
      }
      const webhookConfig = parseWebhookConfig(batch.webhookConfig ?? batch.webhook_config, 'batch.webhook_config');
      const displayName = optionalString(batch.displayName ?? batch.display_name, 'batch.display_name');
      const job = jobs.create('batch', {
        model: `models/${req.params.model ?? ''}`,
        displayName,
        webhookConfig,
        requestCount: Array.isArray(requests) ? requests.length : 1,
        apiBase: apiBase(req, version),
      });
      return { status: 200, body: batchOperation(job, { justCreated: true }) };
    });
    router.add('GET', `${base}/batches/{id}`, (req) => ({ status: 200, body: batchOperation(jobs.get('batch', `batches/${req.params.id ?? ''}`)) }));
    router.add('POST', `${base}/batches/{id}:cancel`, (req) => {
      jobs.cancel('batch', `batches/${req.params.id ?? ''}`);
      return { status: 200, body: {} };
    });

    router.add('POST', `${base}/models/{model}:predictLongRunning`, (req) => {
      const body = readBody(req.json(), 'The request');
      if (!Array.isArray(body.instances) || body.instances.length === 0) {
        throw invalidArgument('instances is required: e.g. [{"prompt": "a cat playing the piano"}].');
      }
      const webhookConfig: JobWebhookConfig | undefined = parseWebhookConfig(body.webhookConfig ?? body.webhook_config, 'webhook_config');
      const job = jobs.create('video', { model: `models/${req.params.model ?? ''}`, webhookConfig, apiBase: apiBase(req, version) });
      return { status: 200, body: videoOperation(job, { justCreated: true }) };
    });
    router.add('GET', `${base}/models/{model}/operations/{id}`, (req) => ({
      status: 200,
      body: videoOperation(jobs.get('video', `models/${req.params.model ?? ''}/operations/${req.params.id ?? ''}`)),
    }));
    // Some clients poll operations by their bare id.
    router.add('GET', `${base}/operations/{id}`, (req) => {
      const id = req.params.id ?? '';
      const job = jobs.list('video').find((candidate) => shortId(candidate.name) === id);
      return { status: 200, body: videoOperation(job ?? jobs.get('video', `operations/${id}`)) };
    });
  }
}

function readBody(value: unknown, what: string): Record<string, unknown> {
  if (value === undefined || value === null) throw invalidArgument(`${what} is required.`);
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidArgument(`Invalid JSON payload received. ${what} must be a JSON object.`);
  return value as Record<string, unknown>;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw invalidArgument(`${field} must be a string.`);
  return value;
}

function pick(body: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((key) => body[key] !== undefined).map((key) => [key, structuredClone(body[key])]));
}

/** The base the client used (Host header), so URIs handed back reach this emulator from there. */
function apiBase(req: EmulatorRequest, version: string): string {
  const host = req.headers.host ?? 'localhost';
  return `http://${host}/${version}`;
}
