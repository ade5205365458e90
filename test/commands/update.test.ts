import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { createdId, startManageSession, type ManageSession, helpExamples } from './manage-session.js';

describe('gemwh update', () => {
  let session: ManageSession;
  let id: string;
  beforeAll(async () => {
    session = await startManageSession();
    id = createdId(await session.run(['create', '--uri', 'https://hooks.example.com/u', '--events', 'batch.succeeded', '--name', 'before']));
  });
  afterAll(() => session.stop());

  it('changes only the fields given', async () => {
    const result = await session.run(['update', id, '--name', 'after', '--state', 'disabled', '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ id, name: 'after', state: 'disabled', uri: 'https://hooks.example.com/u', subscribed_events: ['batch.succeeded'] });
    expect(result.stderr).toContain(`Updated webhook ${id}: name, state.`);
  });

  it('adds and removes events against the current list', async () => {
    await session.run(['update', id, '--add-events', 'batch.failed,video.generated']);
    expect(session.emulator.store.get(id).subscribed_events).toEqual(['batch.succeeded', 'batch.failed', 'video.generated']);
    const result = await session.run(['update', id, '--remove-events', 'batch.succeeded', '--add-events', 'batch.expired']);
    expect(result.code).toBe(0);
    expect(session.emulator.store.get(id).subscribed_events).toEqual(['batch.failed', 'video.generated', 'batch.expired']);
  });

  it('does not call update when --add-events / --remove-events change nothing, and says so', async () => {
    const before = session.emulator.store.get(id);
    const added = await session.run(['update', id, '--add-events', 'batch.failed']);
    expect(added.code).toBe(0);
    expect(added.stderr).toMatch(/--add-events: webhook \S+ is already subscribed to "batch.failed"/);
    expect(added.stderr).toContain(`Nothing to update: the events of webhook ${id} are already batch.failed, video.generated, batch.expired.`);
    expect(added.stderr).not.toMatch(/Updated/);
    expect(added.stdout.split('\n')[0]).toBe(`id\t${id}`);

    const removed = await session.run(['update', id, '--remove-events', 'interaction.failed', '--json']);
    expect(removed.code).toBe(0);
    expect(removed.stderr).toMatch(/--remove-events: webhook \S+ is not subscribed to "interaction.failed"/);
    expect(removed.stderr).toMatch(/Nothing to update/);
    expect(JSON.parse(removed.stdout)).toMatchObject({ id, subscribed_events: ['batch.failed', 'video.generated', 'batch.expired'] });
    // The emulator's update_time moves on every PATCH: it did not move.
    expect(session.emulator.store.get(id).update_time).toBe(before.update_time);

    // With another field, that field is updated and the unchanged events are left out of the mask.
    const named = await session.run(['update', id, '--add-events', 'batch.failed', '--name', 'renamed']);
    expect(named.code).toBe(0);
    expect(named.stderr).toContain(`Updated webhook ${id}: name.`);
  });

  it('replaces the events with --events and the uri with --uri', async () => {
    const result = await session.run(['update', id, '--events', 'interaction.completed', '--uri', 'https://hooks.example.com/v2']);
    expect(result.code).toBe(0);
    expect(session.emulator.store.get(id)).toMatchObject({ subscribed_events: ['interaction.completed'], uri: 'https://hooks.example.com/v2' });
    expect(result.stdout.split('\n')[0]).toBe(`id\t${id}`);
  });

  it('is a usage error with no field to change, and calls no API', async () => {
    const before = session.emulator.store.get(id).update_time;
    const result = await session.run(['update', id]);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toMatch(/nothing to update/);
    expect(session.emulator.store.get(id).update_time).toBe(before);
  });

  it('refuses to remove the last event', async () => {
    const result = await session.run(['update', id, '--remove-events', 'interaction.completed']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toMatch(/no events/);
    expect(result.stderr).toMatch(/--state disabled/);
  });

  it('refuses --events together with --add-events', async () => {
    const result = await session.run(['update', id, '--events', 'batch.failed', '--add-events', 'batch.expired']);
    expect(result.code).toBe(ExitCode.USAGE);
  });

  it('rejects an unknown event type and a state it cannot set', async () => {
    expect((await session.run(['update', id, '--add-events', 'video.generatd'])).stderr).toMatch(/did you mean "video.generated"/);
    const state = await session.run(['update', id, '--state', 'disabled_due_to_failed_deliveries']);
    expect(state.code).toBe(ExitCode.USAGE);
  });

  it('exits 5 for an unknown id', async () => {
    const result = await session.run(['update', 'nosuchwebhook0000000000000000000000', '--name', 'x']);
    expect(result.code).toBe(ExitCode.NOT_FOUND);
  });

  it.each(['update'])('gemwh %s --help ends with real examples', async (command) => {
    const examples = await helpExamples(command.split(' '));
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const example of examples) expect(example).toContain(command.split(' ').at(-1));
  });
});
