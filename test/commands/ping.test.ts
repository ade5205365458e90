import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { createdId, startManageSession, type ManageSession, helpExamples } from './manage-session.js';

describe('gemwh ping', () => {
  let session: ManageSession;
  beforeAll(async () => {
    session = await startManageSession();
  });
  afterAll(() => session.stop());

  it('asks the service to ping the webhook', async () => {
    const id = createdId(await session.run(['create', '--uri', 'https://hooks.example.com/p', '--events', 'batch.succeeded']));
    const pinged: string[] = [];
    const stopListening = session.emulator.store.onChange((change) => {
      if (change.type === 'pinged') pinged.push(change.webhook.id);
    });
    try {
      const result = await session.run(['ping', id]);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`test delivery to webhook ${id}`);
      const json = await session.run(['ping', id, '--json']);
      expect(JSON.parse(json.stdout)).toEqual({ id, pinged: true });
      expect(pinged).toEqual([id, id]);
    } finally {
      stopListening();
    }
  });

  it('exits 5 for an unknown id', async () => {
    const result = await session.run(['ping', 'nosuchwebhook0000000000000000000000']);
    expect(result.code).toBe(ExitCode.NOT_FOUND);
  });

  it.each(['ping'])('gemwh %s --help ends with real examples', async (command) => {
    const examples = await helpExamples(command.split(' '));
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const example of examples) expect(example).toContain(command.split(' ').at(-1));
  });
});
