import { Option } from 'commander';

/**
 * --timeout and --insecure as the commands that send to a receiver (replay fixture, replay
 * delivery, conformance) declare them: one wording where the flags mean the same.
 */

export function answerTimeoutOption(): Option {
  return new Option('--timeout <duration>', 'time allowed for each answer').default('10s');
}

export function insecureOption(): Option {
  return new Option('--insecure', "accept the receiver's TLS certificate even if untrusted (a local self-signed one)");
}
