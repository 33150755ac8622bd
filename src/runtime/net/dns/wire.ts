// The few parts of the DNS wire format (RFC 1035) the network's responder needs: read a
// query's id, flags and first question; write an answer with A or PTR records, or an empty one
// with a response code. Anything else is forwarded as the bytes it came in.

export const TYPE_A = 1;
export const TYPE_PTR = 12;
export const TYPE_AAAA = 28;
export const RCODE = { noError: 0, formErr: 1, servFail: 2, nxDomain: 3, refused: 5 } as const;

export interface Question {
  id: number;
  /** The flags word of the query (RD is echoed). */
  flags: number;
  /** Lower case, without the trailing dot. */
  name: string;
  type: number;
  klass: number;
  /** Offset just past the question: where answers go. */
  end: number;
}

/** The query's first question, or undefined when the message is not a query we can read. */
export function parseQuery(msg: Buffer): Question | undefined {
  if (msg.length < 12) return undefined;
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000 || ((flags >> 11) & 0xf) !== 0) return undefined; // a response, or not a standard query
  if (msg.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let at = 12;
  for (;;) {
    if (at >= msg.length) return undefined;
    const len = msg[at]!;
    if (len === 0) {
      at++;
      break;
    }
    if (len & 0xc0 || at + 1 + len > msg.length) return undefined; // no compression in a question we read
    labels.push(msg.toString('latin1', at + 1, at + 1 + len).toLowerCase());
    at += 1 + len;
  }
  if (at + 4 > msg.length) return undefined;
  return { id: msg.readUInt16BE(0), flags, name: labels.join('.'), type: msg.readUInt16BE(at), klass: msg.readUInt16BE(at + 2), end: at + 4 };
}

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter(Boolean).map((l) => {
    const b = Buffer.from(l, 'latin1');
    return Buffer.concat([Buffer.from([b.length]), b]);
  });
  return Buffer.concat([...parts, Buffer.from([0])]);
}

export type Answer = { type: typeof TYPE_A; ip: string } | { type: typeof TYPE_PTR; name: string };

/** The response to QUERY (the question copied), with ANSWERS and RCODE; authoritative. */
export function buildResponse(query: Buffer, q: Question, rcode: number, answers: Answer[] = [], ttl = 600): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  // QR, AA, RD as asked, RA.
  header.writeUInt16BE(0x8000 | 0x0400 | (q.flags & 0x0100) | 0x0080 | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const records = answers.map((a) => {
    const data = a.type === TYPE_A ? Buffer.from(a.ip.split('.').map(Number)) : encodeName(a.name);
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    rr.writeUInt16BE(a.type, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(ttl, 6);
    rr.writeUInt16BE(data.length, 10);
    return Buffer.concat([rr, data]);
  });
  return Buffer.concat([header, query.subarray(12, q.end), ...records]);
}

/** A minimal error response for a message we could not read as a query (id kept when there is one). */
export function formatError(msg: Buffer): Buffer | undefined {
  if (msg.length < 2) return undefined;
  const header = Buffer.alloc(12);
  header.writeUInt16BE(msg.readUInt16BE(0), 0);
  header.writeUInt16BE(0x8000 | RCODE.formErr, 2);
  return header;
}

/** "2.0.17.172.in-addr.arpa" → "172.17.0.2", or undefined. */
export function reverseName(name: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(name);
  return m ? [m[4], m[3], m[2], m[1]].join('.') : undefined;
}
