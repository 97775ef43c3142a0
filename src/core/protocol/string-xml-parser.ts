import { type X2jOptions, XMLParser } from 'fast-xml-parser';

/**
 * A fast-xml-parser for the small OpenRosa and HQ answers the client reads (submission
 * responses, user registration, mobile key records). Data loss guards (DESIGN.md section
 * 2): every value stays a string (no number or boolean guessing, so `007` and `1e3` arrive
 * as sent), attributes are kept under `@name`, namespace prefixes are dropped. `options`
 * adds what one answer needs (trimming, HTML entities, the elements that repeat).
 */
export function stringXmlParser(options: Partial<X2jOptions>): XMLParser {
  return new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    removeNSPrefix: true,
    parseTagValue: false,
    parseAttributeValue: false,
    processEntities: true,
    ...options,
  });
}
