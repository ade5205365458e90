import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { curlUrl, toCurlCommand, type CurlSource } from '../deliveries/export-formats.js';
import type { DeliveryDetails } from '../listen/session-types.js';

/**
 * `s` in the live view: the selected delivery as a curl command, written to a file in the folder
 * listen runs in and offered to the terminal's clipboard (OSC 52). The command is the one
 * `gemwh deliveries export --as curl` prints, from what the session keeps of the request.
 */

export interface CurlExport {
  /** The command alone (what the clipboard gets: a comment line would fail when pasted into zsh). */
  command: string;
  /** The file: the command after a few comment lines saying which delivery it is. */
  fileText: string;
  /** The file name without `.curl.sh`. */
  fileStem: string;
  /** Where the command posts: the delivery's first forward target, else where it was sent. */
  postsTo: string;
}

/**
 * The export of a delivery, or why there is none. `details` must hold the whole body
 * (getDelivery(seq, { wholeBody: true })): a command with a cut body would send another request.
 */
export function curlExport(details: DeliveryDetails): CurlExport | { refusal: string } {
  if (details.body.truncated) {
    return {
      refusal: `#${details.seq} was refused as too large and only the start of its body was read: a curl command would send another request`,
    };
  }
  const source: CurlSource = { method: details.method, path: details.path, headers: details.headers, encoding: details.body.encoding, body: details.body.data };
  // The app is where a developer re-sends a delivery by hand; sending it to the listener again
  // would only be answered as a duplicate.
  const forwardTo = details.targets[0];
  const target = forwardTo === undefined ? undefined : { url: new URL(forwardTo), hasPath: true };
  const command = toCurlCommand(source, target);
  const postsTo = curlUrl(source, target).href;
  const about = [details.webhookId, details.eventType].filter((part) => part !== undefined && part !== '').map((part) => oneLine(part!)).join(' ');
  const fileText =
    `# gemwh listen: delivery #${details.seq}${about ? ` (${about})` : ''}, received ${new Date(details.receivedAt).toISOString()}\n` +
    `# Posts to ${postsTo} with the headers as received: an app that checks webhook-timestamp\n` +
    `# refuses it once that is more than 5 minutes old (gemwh replay delivery --resign signs anew).\n` +
    command;
  return { command, fileText, fileStem: `gemwh-${fileSafe(details.webhookId) ?? `delivery-${details.seq}`}`, postsTo };
}

/**
 * Writes `text` as a new file in `dir`, mode 0600 (the command holds the body and the signature
 * headers, for a dynamic delivery a bearer JWT), never over an existing file: `stem.ext`, then
 * `stem-2.ext`, … Resolves to the path written, as the status line shows it.
 */
export async function saveNewFile(dir: string, stem: string, ext: string, text: string): Promise<string> {
  for (let n = 1; ; n++) {
    const fileName = `${stem}${n === 1 ? '' : `-${n}`}${ext}`;
    const path = join(dir, fileName);
    try {
      await writeFile(path, text, { mode: 0o600, flag: 'wx' });
      return dir === '.' ? `./${fileName}` : path;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || n >= 99) throw error;
    }
  }
}

/**
 * The largest text offered to the clipboard, in base64 characters. Terminals cap OSC 52 (some
 * at about 100 kB, as vim-oscyank's old default did) and drop a longer sequence silently.
 */
export const OSC52_MAX_CHARS = 100_000;

/**
 * The escape sequence that asks the terminal to put `text` on the system clipboard (OSC 52), or
 * undefined when it is too long to be taken. Nothing answers it: a terminal that does not allow
 * it (or tmux without `set-clipboard on`) ignores it, so the status line says "asked".
 */
export function osc52(text: string): string | undefined {
  const data = Buffer.from(text, 'utf8').toString('base64');
  return data.length > OSC52_MAX_CHARS ? undefined : `\u001b]52;c;${data}\u0007`;
}

/** A webhook id as part of a file name: sender-chosen text, so only safe characters and no leading dot. */
function fileSafe(id: string | undefined): string | undefined {
  if (!id) return undefined;
  const safe = id.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '').slice(0, 80);
  return safe === '' ? undefined : safe;
}

/** Sender-chosen text inside a shell comment must not end the comment line. */
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, ' ');
}
