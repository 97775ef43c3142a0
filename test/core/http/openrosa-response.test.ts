import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { XmlError } from '../../../src/core/errors/xml-error.ts';
import {
  parseOpenRosaResponse,
  tryParseOpenRosaResponse,
} from '../../../src/core/protocol/openrosa-response.ts';

const samples = resolve(import.meta.dirname, '../../../../shared/samples');

describe('parseOpenRosaResponse', () => {
  it("reads Android's async restore sample: nature, text, progress", () => {
    const xml = readFileSync(resolve(samples, 'commcare-android/async_restore_response.xml'), 'utf8');
    expect(parseOpenRosaResponse(xml)).toEqual({
      nature: 'ota_restore_pending',
      message: 'Asynchronous restore under way for {username}',
      messages: [{ nature: 'ota_restore_pending', text: 'Asynchronous restore under way for {username}' }],
      progress: { done: 55, total: 10000, retryAfterSeconds: 2 },
    });
  });

  it("trims HQ's padded success text and keeps entities decoded", () => {
    const r = parseOpenRosaResponse(
      '<OpenRosaResponse xmlns="http://openrosa.org/http/response" items="3"><message nature="submit_success">   √ &amp; ok   </message></OpenRosaResponse>',
    );
    expect(r.message).toBe('√ & ok');
    expect(r.nature).toBe('submit_success');
    expect(r.items).toBe(3);
  });

  it('handles several messages and a prefixed root', () => {
    const r = parseOpenRosaResponse(
      '<or:OpenRosaResponse xmlns:or="http://openrosa.org/http/response"><or:message nature="a">1</or:message><or:message>2</or:message></or:OpenRosaResponse>',
    );
    expect(r.messages).toEqual([{ nature: 'a', text: '1' }, { text: '2' }]);
  });

  it('typed errors for non-XML and for another root', () => {
    expect(() => parseOpenRosaResponse('<a><b></a>')).toThrow(XmlError);
    expect(() => parseOpenRosaResponse('<html/>')).toThrowError(
      expect.objectContaining({ code: 'xml-invalid' }),
    );
    expect(tryParseOpenRosaResponse('Form exceeds 10MB size limit')).toBeUndefined();
  });
});
