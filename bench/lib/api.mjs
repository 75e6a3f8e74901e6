// W6, an API batch: the JSON body of request i, exactly 1 KiB once serialised and the same in every process, and
// what the server answers. Every contestant sends the same bodies; the server answers 200 only when the body it
// read parses and names the index of the URL it came to, so a lost or mixed-up body is a wrong answer.

export const BODY_BYTES = 1024;

/** The value whose JSON is W6's body for request i (1024 bytes of UTF-8). */
export function jsonBody(i) {
  const value = { id: i, name: `record ${i}`, tags: ['bench', 'w6'], payload: '' };
  value.payload = 'x'.repeat(BODY_BYTES - JSON.stringify(value).length);
  return value;
}

/** The server's side: 200 and `{"id":i,"bytes":n}` for a body that names i; 400 otherwise. */
export function answer(i, body) {
  let ok = false;
  try {
    ok = JSON.parse(body.toString('utf8')).id === i && body.length === BODY_BYTES;
  } catch {
    ok = false;
  }
  return { status: ok ? 200 : 400, json: JSON.stringify({ id: i, bytes: body.length }) };
}
