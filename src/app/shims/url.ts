/**
 * Browser stand-in for the two functions of Node's `url` that @oozcitak/url (under
 * xmlbuilder2) calls. The WHATWG URL parser does the IDNA mapping.
 */
export function domainToASCII(domain: string): string {
  try {
    return new URL(`http://${domain}/`).hostname;
  } catch {
    return '';
  }
}

export function domainToUnicode(domain: string): string {
  return domain;
}

export default { domainToASCII, domainToUnicode };
