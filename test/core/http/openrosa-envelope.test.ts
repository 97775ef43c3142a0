import { describe, expect, it } from 'vitest';
import { readEnvelope } from '../../../src/core/http/classify-response.ts';
import { parseOpenRosaResponse } from '../../../src/core/protocol/openrosa-response.ts';

const NS = 'http://openrosa.org/http/response';

describe('reading the one-message OpenRosa envelope without the XML parser', () => {
  it('reads what the XML parser reads', () => {
    const bodies = [
      `<OpenRosaResponse xmlns="${NS}"><message nature="submit_success">   √   </message></OpenRosaResponse>`,
      `<?xml version='1.0' encoding='UTF-8'?>\n<OpenRosaResponse xmlns="${NS}">\n  <message nature="submit_error">Form is a duplicate of another! (abc)</message>\n</OpenRosaResponse>\n`,
      `<OpenRosaResponse xmlns="${NS}"><message nature="processing_failure">InvalidCaseIndex: Case 'x' 👕 "y"</message></OpenRosaResponse>`,
      `<OpenRosaResponse xmlns="${NS}"><message nature="submit_success"></message></OpenRosaResponse>`,
      // These take the parser: an entity, two messages, another element.
      `<OpenRosaResponse xmlns="${NS}"><message nature="submit_error">a &amp; b &lt;c&gt;</message></OpenRosaResponse>`,
      `<OpenRosaResponse xmlns="${NS}"><message nature="a">one</message><message nature="b">two</message></OpenRosaResponse>`,
      `<OpenRosaResponse xmlns="${NS}" items="3"><message nature="ota_restore_success">x</message></OpenRosaResponse>`,
    ];
    for (const b of bodies) expect(readEnvelope(b), b).toEqual(parseOpenRosaResponse(b));
  });

  it('leaves anything that is not an OpenRosa envelope unread', () => {
    expect(readEnvelope('Internal server error')).toBeUndefined();
    expect(readEnvelope('')).toBeUndefined();
  });
});
