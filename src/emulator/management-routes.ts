import {
  parseEmptyRequest,
  parsePageSize,
  parseRevocationBehavior,
  parseWebhookInput,
  parseWebhookUpdate,
} from './request-validation.js';
import type { UpdateMaskMode } from './fidelity.js';
import type { Router } from './router.js';
import type { WebhookStore } from './store.js';

/**
 * The WebhookService surface (spec §1), mounted once per API version prefix: /v1 (the guide's REST
 * samples, @google/genai 3.1+) and /v1beta (the reference, older SDKs) by default.
 */
export function addManagementRoutes(router: Router, store: WebhookStore, apiVersions: readonly string[], updateMask: UpdateMaskMode = 'ignore'): void {
  for (const version of apiVersions) {
    const base = `/${version}/webhooks`;
    router.add('POST', base, (req) => ({ status: 200, body: store.create(parseWebhookInput(req.json())) }));
    router.add('GET', base, (req) => {
      const pageSize = parsePageSize(req.query.get('page_size') ?? req.query.get('pageSize'));
      const pageToken = req.query.get('page_token') ?? req.query.get('pageToken') ?? undefined;
      return { status: 200, body: store.list({ pageSize, pageToken: pageToken || undefined }) };
    });
    router.add('GET', `${base}/{id}`, (req) => ({ status: 200, body: store.get(id(req.params)) }));
    router.add('PATCH', `${base}/{id}`, (req) => {
      const webhookId = id(req.params);
      const { changes, fields } = parseWebhookUpdate(req.json(), req.query.get('update_mask') ?? req.query.get('updateMask'), updateMask);
      return { status: 200, body: store.update(webhookId, changes, fields) };
    });
    router.add('DELETE', `${base}/{id}`, (req) => {
      store.delete(id(req.params));
      return { status: 200, body: {} };
    });
    router.add('POST', `${base}/{id}:ping`, (req) => {
      parseEmptyRequest(req.json());
      store.ping(id(req.params));
      return { status: 200, body: {} };
    });
    router.add('POST', `${base}/{id}:rotateSigningSecret`, (req) => {
      const behavior = parseRevocationBehavior(req.json());
      return { status: 200, body: store.rotateSigningSecret(id(req.params), behavior) };
    });
  }
}

function id(params: Readonly<Record<string, string>>): string {
  return params.id ?? '';
}
