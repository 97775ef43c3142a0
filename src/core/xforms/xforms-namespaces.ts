/** Namespaces of XForms as CommCare writes them; prefixes vary, so match by URI. */
export const XFORMS_NS = {
  xforms: 'http://www.w3.org/2002/xforms',
  jr: 'http://openrosa.org/javarosa',
  h: 'http://www.w3.org/1999/xhtml',
} as const;
