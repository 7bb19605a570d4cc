// What a Zygote (service/runtime/zygote.py) answers on its control socket, checked. Package code runs inside
// Zygotes at import time and can write frames of its own there: an answer is one small flat JSON object
// (sandbox/flat-json.ts), with known fields of the right types, timings in range, and the id of a request
// the daemon sent. Pure.

import { FlatObject, numberIn, parseFlatObject } from '../sandbox/flat-json';
import { MAX_REPORTED_MS } from '../sandbox/framing';

export interface Answer {
  id: string;
  pid?: number;
  joined?: boolean;
  ready?: boolean;
  ok?: boolean;
  error?: string;
  import_ms?: number;
}

/** the largest answer accepted (an error carries one line of a traceback) */
export const MAX_ANSWER_BYTES = 64 * 1024;
/** pid_max can't exceed 2^22 */
const MAX_PID = 1 << 22;

/** Parses and checks one answer; throws a SyntaxError saying what is wrong with it. */
export function parseAnswer(frame: Buffer): Answer {
  const o: FlatObject = parseFlatObject(frame, MAX_ANSWER_BYTES);
  if (typeof o.id !== 'string' || o.id.length > 64) throw new SyntaxError('an answer needs a request id');
  const answer: Answer = { id: o.id };
  for (const [key, value] of Object.entries(o)) {
    switch (key) {
      case 'id':
        break;
      case 'pid':
        answer.pid = numberIn(o, key, 1, MAX_PID);
        if (!Number.isInteger(answer.pid)) throw new SyntaxError(`pid: ${value} is not an integer`);
        break;
      case 'joined':
      case 'ready':
      case 'ok':
        if (typeof value !== 'boolean') throw new SyntaxError(`${key}: not a boolean`);
        answer[key] = value;
        break;
      case 'error':
        if (typeof value !== 'string') throw new SyntaxError('error: not a string');
        answer.error = value;
        break;
      case 'import_ms':
        answer.import_ms = numberIn(o, key, 0, MAX_REPORTED_MS);
        break;
      default:
        throw new SyntaxError(`unknown field ${JSON.stringify(key)}`);
    }
  }
  return answer;
}
